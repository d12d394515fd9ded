import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PosternError } from '../core/index.js';
import { describeFailure, describeUsageError } from './error-report.js';

test('a coded error is one line with its code', () => {
  const report = describeFailure(new PosternError('POSTERN_ERR_X', 'It broke.\nFix it.'));
  assert.equal(report.text, 'postern: It broke. Fix it. (POSTERN_ERR_X)\n');
  assert.equal(report.bug, false);
});

test('a file error is one line without a stack, even with its Node class', () => {
  const err = Object.assign(new Error("ENOENT: no such file or directory, open '/x.json'"), {
    code: 'ENOENT',
    syscall: 'open',
  });
  const report = describeFailure(err);
  assert.equal(report.text, "postern: ENOENT: no such file or directory, open '/x.json'\n");
  assert.equal(report.bug, false);
});

test('a malformed file (SyntaxError from JSON.parse) is the input, not a bug', () => {
  let err: unknown;
  try {
    JSON.parse('{ nope');
  } catch (e) {
    err = e;
  }
  const report = describeFailure(err);
  assert.equal(report.bug, false);
  assert.match(report.text, /^postern: [^\n]*JSON[^\n]*\n$/);
});

test('a TypeError is reported as a bug with where it happened, the stack only in debug', () => {
  let err: unknown;
  try {
    (undefined as unknown as { x: () => void }).x();
  } catch (e) {
    err = e;
  }
  const report = describeFailure(err);
  assert.equal(report.bug, true);
  assert.match(
    report.text,
    /^postern: internal error: .* \(at .*error-report\.test\.[jt]s:\d+:\d+\)\. This is a bug/,
  );
  assert.match(report.text, /POSTERN_DEBUG=1/);
  assert.equal(report.text.split('\n').length, 2, 'one line');
  const debug = describeFailure(err, { debug: true });
  assert.match(debug.text, /\n\s+at /, 'the whole stack with POSTERN_DEBUG=1');
});

test('something thrown that is not an Error is a bug, still one line', () => {
  const report = describeFailure('just a string');
  assert.equal(report.bug, true);
  assert.equal(report.text.split('\n').length, 2);
  assert.match(report.text, /just a string/);
});

test('a usage error is one postern: line naming the --help of the mistyped command', () => {
  const text = describeUsageError("error: unknown option '--bogus'\n", 'postern edge');
  assert.equal(text, "postern: unknown option '--bogus'; run `postern edge --help` for usage\n");
});

test('a usage error with a suggestion stays one line', () => {
  const text = describeUsageError(
    "error: unknown option '--tunel-listen'\n(Did you mean --tunnel-listen?)\n",
    'postern edge',
  );
  assert.equal(text.split('\n').length, 2, 'one line');
  assert.match(
    text,
    /^postern: unknown option '--tunel-listen' \(Did you mean --tunnel-listen\?\);/,
  );
  assert.equal(text.match(/--help/g)?.length, 1, '--help named once');
});
