import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from './parse-document.js';
import { documentProblems } from './test-document-problems.js';

/** A document with one virtual server whose extra keys are `extra` (flow-mapping text). */
function documentWith(extra: string): string {
  return [
    'version: 1',
    'pools:',
    '  - {name: web, nodes: [{address: "10.0.0.1:80"}]}',
    'virtual_servers:',
    `  - {name: web, listen: "0.0.0.0:8080", pool: web${extra}}`,
  ].join('\n');
}

test('max_connections defaults to 0 (unlimited) and accepts 0 and a positive number', () => {
  const maxOf = (extra: string) =>
    parseDocument(documentWith(extra), { fileName: 't.yaml' }).virtual_servers[0]?.max_connections;
  assert.equal(maxOf(''), 0);
  assert.equal(maxOf(', max_connections: 0'), 0);
  assert.equal(maxOf(', max_connections: 1500'), 1500);
  assert.equal(maxOf(', max_connections: 1000000'), 1_000_000);
});

test('max_connections refuses negatives, fractions and absurd values with a clear message', () => {
  assert.deepEqual(documentProblems(documentWith(', max_connections: -1')), [
    'virtual_servers[0].max_connections — must be at least 0',
  ]);
  assert.deepEqual(documentProblems(documentWith(', max_connections: 1000001')), [
    'virtual_servers[0].max_connections — must be at most 1000000',
  ]);
  const [fraction] = documentProblems(documentWith(', max_connections: 2.5'));
  assert.match(fraction ?? '', /^virtual_servers\[0\]\.max_connections — .*(integer|whole)/);
  const [text] = documentProblems(documentWith(', max_connections: many'));
  assert.match(text ?? '', /^virtual_servers\[0\]\.max_connections — /);
});
