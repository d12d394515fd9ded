import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from './parse-document.js';
import { documentProblems } from './test-document-problems.js';
import { poolSchema } from './pool.js';

/** A document with one pool whose extra keys are `extra` (flow-mapping text). */
function documentWith(extra: string): string {
  return [
    'version: 1',
    'pools:',
    `  - {name: batch, nodes: [{address: "10.0.0.1:9000"}]${extra}}`,
    'virtual_servers:',
    '  - {name: batch, protocol: tcp, listen: "0.0.0.0:9000", pool: batch}',
  ].join('\n');
}

test("abort_on_close defaults to false (HAProxy's default) and takes true or false", () => {
  const abortOf = (extra: string) =>
    parseDocument(documentWith(extra), { fileName: 't.yaml' }).pools[0]?.abort_on_close;
  assert.equal(abortOf(''), false);
  assert.equal(abortOf(', abort_on_close: true'), true);
  assert.equal(abortOf(', abort_on_close: false'), false);
});

test('abort_on_close refuses anything but a boolean, with its path', () => {
  for (const value of ['"yes"', '1', 'null', '[true]']) {
    const problems = documentProblems(documentWith(`, abort_on_close: ${value}`));
    assert.equal(problems.length, 1, `${value}: ${problems.join('; ')}`);
    assert.match(problems[0] ?? '', /^pools\[0\]\.abort_on_close — /, value);
  }
});

test('abort_on_close is described in the schema, for the docs and the generated JSON Schema', () => {
  const field = poolSchema.shape.abort_on_close;
  assert.match(field.meta()?.description ?? '', /abortonclose/);
});
