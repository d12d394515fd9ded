// Runs every compiled test file under dist/ with node's test runner and prints its summary.
// Usage: node scripts/run-tests.mjs [unit|integration|e2e|all] (default all)
import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { spawnSync } from 'node:child_process';

const kind = process.argv[2] ?? 'all';
const roots = {
  unit: ['dist/src', 'dist/bench'],
  integration: ['dist/test'],
  e2e: ['dist/test'],
  all: ['dist/src', 'dist/test', 'dist/bench'],
}[kind];
if (!roots) {
  console.error(`unknown test kind "${kind}": use unit, integration, e2e or all`);
  process.exit(2);
}

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = roots.flatMap((r) => walk(r, [])).sort();
const wanted = files.filter((f) => {
  if (kind === 'e2e') return f.includes(`${sep}e2e${sep}`);
  if (kind === 'integration') return !f.includes(`${sep}e2e${sep}`);
  return true;
});
if (wanted.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
const args = [
  '--enable-source-maps',
  '--test',
  '--test-reporter=spec',
  '--test-concurrency=2',
  '--test-timeout=300000',
  ...wanted,
];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
