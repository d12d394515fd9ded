import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeDocument, formatNumber, markdownSection, parseSections } from './report.js';
import type { SuiteReport } from './report.js';
import { ratioOf, statusOf } from './suite.js';
import type { Result } from './suite.js';

const result = (value: number, baseline?: number, target?: number): Result => ({
  case: 'c',
  value,
  unit: 'Gbit/s',
  ...(baseline === undefined ? {} : { baseline: { case: 'b', value: baseline } }),
  ...(target === undefined ? {} : { target }),
});

const report = (name: string, results: Result[]): SuiteReport => ({
  name,
  title: `${name} title`,
  results,
  notes: ['a note'],
  elapsedMs: 10,
});

test('status is PASS at or above the target ratio and BELOW under it', () => {
  assert.equal(statusOf(result(9, 10, 0.9)), 'PASS');
  assert.equal(statusOf(result(8.9, 10, 0.9)), 'BELOW');
  assert.equal(statusOf(result(9, 10)), '');
  assert.equal(ratioOf(result(5, 10)), 0.5);
  assert.equal(ratioOf(result(5)), undefined);
});

test('a suite section round-trips through parseSections', () => {
  const text = markdownSection(report('tls', [result(9, 10, 0.9)]), 'Run X.');
  const parsed = parseSections(`# head\n\n${text}\n`);
  assert.deepEqual([...parsed.keys()], ['tls']);
  assert.equal(parsed.get('tls'), text);
  assert.match(text, /\| c \| 9\.00 Gbit\/s \|.*\| 0\.90× \| ≥ 0\.90× \| PASS \|/);
});

test('composing keeps sections of suites not run and replaces those that ran', () => {
  const old = composeDocument(
    '# old',
    new Map([
      ['a', markdownSection(report('a', [result(1)]), 'old a')],
      ['b', markdownSection(report('b', [result(2)]), 'old b')],
    ]),
    new Map(),
    ['a', 'b'],
  );
  const fresh = new Map([['b', markdownSection(report('b', [result(3)]), 'new b')]]);
  const doc = composeDocument('# new', fresh, parseSections(old), ['a', 'b']);
  assert.match(doc, /^# new\n/);
  assert.match(doc, /old a/);
  assert.match(doc, /new b/);
  assert.doesNotMatch(doc, /old b/);
  assert.ok(doc.indexOf('suite:a') < doc.indexOf('suite:b'), 'known order kept');
});

test('numbers get three significant digits, large ones a thousands separator', () => {
  assert.equal(formatNumber(7.256), '7.26');
  assert.equal(formatNumber(0.5), '0.500');
  assert.equal(formatNumber(1234567.8), '1,234,568');
});
