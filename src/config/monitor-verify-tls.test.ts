import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from './parse-document.js';
import { documentProblems } from './test-document-problems.js';

test('an https monitor takes verify_tls and leaves it unset by default (the pool decides)', () => {
  const doc = parseDocument(
    [
      'version: 1',
      'monitors:',
      '  - {name: strict, type: https, verify_tls: true}',
      '  - {name: plain, type: https}',
    ].join('\n'),
    { fileName: 'm.yaml' },
  );
  assert.equal(doc.monitors[0]?.verify_tls, true);
  assert.equal(doc.monitors[1]?.verify_tls, undefined);
});

test('verify_tls on a tcp or http monitor is refused: it would be ignored', () => {
  assert.deepEqual(
    documentProblems([
      'version: 1',
      'monitors:',
      '  - {name: a, type: http, verify_tls: true}',
      '  - {name: b, type: tcp, verify_tls: false}',
    ]),
    [
      'monitors[0].verify_tls — applies to https monitors only; set type: https or remove it',
      'monitors[1].verify_tls — applies to https monitors only; set type: https or remove it',
    ],
  );
});
