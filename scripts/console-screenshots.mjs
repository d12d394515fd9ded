// Regenerates docs/console/*.png: runs the console's browser test (after `npm run build`) with
// POSTERN_CONSOLE_SCREENSHOTS pointing at a temporary directory, then copies what it saved.
// Usage: npm run screenshots (or node scripts/console-screenshots.mjs <compiled console.test.js>)
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const test = process.argv[2] ?? 'dist/test/e2e/console.test.js';
const shots = mkdtempSync(join(tmpdir(), 'postern-console-shots-'));
const target = 'docs/console';
try {
  const run = spawnSync(
    process.execPath,
    ['--enable-source-maps', '--test', '--test-reporter=spec', test],
    { stdio: 'inherit', env: { ...process.env, POSTERN_CONSOLE_SCREENSHOTS: shots } },
  );
  if (run.status !== 0) {
    console.error(`${test} failed: screenshots not updated`);
    process.exit(run.status ?? 1);
  }
  const pngs = readdirSync(shots).filter((name) => name.endsWith('.png'));
  if (pngs.length === 0) {
    console.error('the test saved no screenshots');
    process.exit(1);
  }
  mkdirSync(target, { recursive: true });
  for (const name of pngs) copyFileSync(join(shots, name), join(target, name));
  console.log(`updated ${pngs.length} screenshots in ${target}: ${pngs.sort().join(', ')}`);
} finally {
  rmSync(shots, { recursive: true, force: true });
}
