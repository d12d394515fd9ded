// Fails when the error codes defined in src/**/errors.ts and the ones documented in docs/errors.md differ.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const codePattern = /POSTERN_ERR_[A-Z0-9_]+/g;

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name === 'errors.ts') out.push(path);
  }
  return out;
}

const defined = new Map();
for (const file of walk('src')) {
  for (const code of readFileSync(file, 'utf8').match(codePattern) ?? []) defined.set(code, file);
}
const docs = readFileSync('docs/errors.md', 'utf8');
const documented = new Set(
  [...docs.matchAll(/^### `?(POSTERN_ERR_[A-Z0-9_]+)`?/gm)].map((m) => m[1]),
);

const missingDocs = [...defined.keys()].filter((c) => !documented.has(c)).sort();
const staleDocs = [...documented].filter((c) => !defined.has(c)).sort();
for (const c of missingDocs)
  console.error(`${c} is defined in ${defined.get(c)} but not documented in docs/errors.md`);
for (const c of staleDocs)
  console.error(`${c} is documented in docs/errors.md but no src/**/errors.ts defines it`);
if (missingDocs.length || staleDocs.length) {
  console.error(
    'Add a "### CODE" section to docs/errors.md for each new code, or remove the stale ones.',
  );
  process.exit(1);
}
console.log(`error docs in sync: ${defined.size} codes`);
