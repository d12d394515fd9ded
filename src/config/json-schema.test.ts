import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configJsonSchema } from './json-schema.js';
import { parseDocument } from './parse-document.js';

type Schema = Record<string, unknown>;

/**
 * A deliberately small JSON Schema checker covering the keywords zod emits for the document
 * (type, const, enum, properties, required, additionalProperties, items, anyOf, bounds,
 * pattern). It returns the paths that fail, so the test can prove it also rejects.
 */
function check(schema: Schema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  const fail = (why: string) => errors.push(`${path}: ${why}`);
  if (Array.isArray(schema['anyOf'])) {
    const ok = (schema['anyOf'] as Schema[]).some((s) => check(s, value, path).length === 0);
    if (!ok) fail('matches no anyOf branch');
  }
  if ('const' in schema && value !== schema['const']) fail('const');
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) fail('enum');
  const type = schema['type'];
  if (type === 'object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return [...errors, `${path}: type`];
    const record = value as Record<string, unknown>;
    const props = (schema['properties'] ?? {}) as Record<string, Schema>;
    for (const key of (schema['required'] ?? []) as string[])
      if (!(key in record)) fail(`required ${key}`);
    for (const [key, v] of Object.entries(record)) {
      if (props[key]) errors.push(...check(props[key], v, `${path}.${key}`));
      else if (schema['additionalProperties'] === false) fail(`additional ${key}`);
    }
  } else if (type === 'array') {
    if (!Array.isArray(value)) return [...errors, `${path}: type`];
    if (typeof schema['minItems'] === 'number' && value.length < schema['minItems'])
      fail('minItems');
    value.forEach((v, i) => errors.push(...check(schema['items'] as Schema, v, `${path}[${i}]`)));
  } else if (type === 'string') {
    if (typeof value !== 'string') return [...errors, `${path}: type`];
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value))
      fail('pattern');
  } else if (type === 'integer' || type === 'number') {
    if (typeof value !== 'number' || (type === 'integer' && !Number.isInteger(value)))
      return [...errors, `${path}: type`];
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) fail('minimum');
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) fail('maximum');
  } else if (type === 'boolean' && typeof value !== 'boolean') fail('type');
  return errors;
}

const example = {
  version: 1,
  connector_groups: [{ name: 'dc-east', description: 'East', auto_delete_after_days: 30 }],
  pools: [
    {
      name: 'web',
      via: 'dc-east',
      algorithm: 'least_connections',
      nodes: [
        { address: '10.0.0.1:80' },
        { address: 'b.internal:80', weight: 2, state: 'draining' },
      ],
    },
  ],
  virtual_servers: [{ name: 'web', listen: '[::]:8443', pool: 'web', connect_timeout_ms: 5000 }],
};

test('the exported JSON Schema describes the document and accepts the example', () => {
  const schema = configJsonSchema();
  assert.equal(schema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
  assert.deepEqual(schema['required'], ['version']);
  assert.equal(schema['additionalProperties'], false);
  assert.deepEqual(check(schema, example), []);
  // The same example is valid for the real parser, so the schema and the parser agree.
  parseDocument(JSON.stringify(example), { fileName: 'example.json' });
});

test('the exported JSON Schema rejects unknown keys, bad enums, bad names and out-of-range numbers', () => {
  const schema = configJsonSchema();
  const bad = {
    ...example,
    extra: 1,
    pools: [{ name: 'Web', algorithm: 'fastest', nodes: [{ address: 'x:1', weight: 0, why: 1 }] }],
  };
  const expected = [
    '$: additional extra',
    '$.pools[0].algorithm: enum',
    '$.pools[0].name: pattern',
    '$.pools[0].nodes[0]: additional why',
    '$.pools[0].nodes[0].weight: minimum',
  ];
  assert.deepEqual(check(schema, bad).sort(), expected.sort());
  assert.deepEqual(check(schema, { pools: [] }), ['$: required version']);
});
