import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { parseDocument } from './parse-document.js';

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

/** Problems of an invalid document as `path — message`. */
function problemsOf(text: string): string[] {
  try {
    parseDocument(text, { fileName: 't.yaml' });
  } catch (err) {
    assert.ok(isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID'), String(err));
    return (err as ConfigProblemsError).problems.map((p) => `${p.path} — ${p.message}`);
  }
  assert.fail('the document was accepted');
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
  assert.deepEqual(problemsOf(documentWith(', max_connections: -1')), [
    'virtual_servers[0].max_connections — must be at least 0',
  ]);
  assert.deepEqual(problemsOf(documentWith(', max_connections: 1000001')), [
    'virtual_servers[0].max_connections — must be at most 1000000',
  ]);
  const [fraction] = problemsOf(documentWith(', max_connections: 2.5'));
  assert.match(fraction ?? '', /^virtual_servers\[0\]\.max_connections — .*(integer|whole)/);
  const [text] = problemsOf(documentWith(', max_connections: many'));
  assert.match(text ?? '', /^virtual_servers\[0\]\.max_connections — /);
});
