import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configJsonSchema } from '../../src/config/index.js';
import { repoRoot } from '../support/repo-root.js';

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

function fieldNames(node: SchemaNode, out = new Set<string>()): Set<string> {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    out.add(name);
    fieldNames(child, out);
  }
  if (node.items) fieldNames(node.items, out);
  return out;
}

test('docs/configuration.md documents every field of the configuration schema', async () => {
  const doc = await readFile(join(repoRoot(), 'docs', 'configuration.md'), 'utf8');
  // Every field must appear in code formatting somewhere: a table cell, a heading or an example.
  const fences = [...doc.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const prose = doc.replace(/```[a-z]*\n[\s\S]*?```/g, '');
  const spans = [...fences, ...[...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!)];
  const missing = [...fieldNames(configJsonSchema() as SchemaNode)].filter(
    (name) => !spans.some((span) => new RegExp(`\\b${name}\\b`).test(span)),
  );
  assert.deepEqual(missing, [], `fields missing from docs/configuration.md: ${missing.join(', ')}`);
});
