// Writes deploy/helm/postern/values.schema.json from the chart's values schema and the
// configuration schemas (test/deploy/helm-values-schema.ts), or with --check fails when the
// committed file differs. Needs a build: node scripts/helm-values-schema.mjs [--check] [buildDir]
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const check = args.includes('--check');
const buildDir = resolve(args.find((a) => !a.startsWith('--')) ?? 'dist');
const module = await import(
  pathToFileURL(join(buildDir, 'test', 'deploy', 'helm-values-schema.js')).href
);
const text = await module.helmValuesSchemaText();
const path = module.VALUES_SCHEMA_PATH;
if (check) {
  let committed = '';
  try {
    committed = readFileSync(path, 'utf8');
  } catch {
    // Missing counts as different.
  }
  if (committed !== text) {
    console.error(`${path} is out of date: run node scripts/helm-values-schema.mjs`);
    process.exit(1);
  }
  console.log(`${path} is up to date`);
} else {
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
