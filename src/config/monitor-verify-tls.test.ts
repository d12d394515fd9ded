import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { parseDocument } from './parse-document.js';

/** Problems of an invalid document as `path — message`. */
function problemsOf(lines: readonly string[]): string[] {
  try {
    parseDocument(lines.join('\n'), { fileName: 't.yaml' });
  } catch (err) {
    assert.ok(isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID'), String(err));
    return (err as ConfigProblemsError).problems.map((p) => `${p.path} — ${p.message}`);
  }
  assert.fail('the document was accepted');
}

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
    problemsOf([
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
