// Test support: the problems parseDocument finds in a document that must be refused.
import assert from 'node:assert/strict';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { parseDocument } from './parse-document.js';

/**
 * Parses `text` (or its lines), which must be refused with POSTERN_ERR_CONFIG_INVALID, and
 * returns its problems as `path — message`; fails the test when the document is accepted.
 */
export function documentProblems(text: string | readonly string[]): string[] {
  try {
    parseDocument(typeof text === 'string' ? text : text.join('\n'), { fileName: 't.yaml' });
  } catch (err) {
    assert.ok(isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID'), String(err));
    return (err as ConfigProblemsError).problems.map((p) => `${p.path} — ${p.message}`);
  }
  assert.fail('the document was accepted');
}
