import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { best, percentile, summarizeLatency } from './stats.js';

test('percentile uses the nearest rank: p50 of 1..100 is 50, p99 is 99, p100 is 100', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 99), 99);
  assert.equal(percentile(values, 100), 100);
  assert.equal(percentile(values, 0), 1);
});

test('percentile of a single sample is that sample for every p', () => {
  for (const p of [0, 1, 50, 99, 100]) assert.equal(percentile([7], p), 7);
});

test('percentile rejects no samples and p outside 0–100', () => {
  assert.throws(() => percentile([], 50), /no samples/);
  assert.throws(() => percentile([1], 101), /outside/);
  assert.throws(() => percentile([1], Number.NaN), /outside/);
});

test('p99 of 1000 samples ignores the 10 slowest', () => {
  const samples = [
    ...Array.from({ length: 990 }, () => 10),
    ...Array.from({ length: 10 }, () => 5000),
  ];
  assert.equal(summarizeLatency(samples).p99, 10);
  samples.push(5000);
  assert.equal(summarizeLatency(samples).p99, 5000);
});

test('summarizeLatency orders numerically, not as text, and leaves its input alone', () => {
  const samples = [100, 9, 20, 3];
  const s = summarizeLatency(samples);
  assert.deepEqual(samples, [100, 9, 20, 3]);
  assert.equal(s.p50, 9);
  assert.equal(s.max, 100);
  assert.equal(s.mean, 33);
  assert.equal(s.count, 4);
});

test('the percentile is a sample, at least the given share of samples lie at or below it', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: 0, max: 100 }),
      (values, p) => {
        const sorted = [...values].sort((a, b) => a - b);
        const v = percentile(sorted, p);
        assert.ok(values.includes(v));
        assert.ok(sorted.filter((x) => x <= v).length >= (p / 100) * values.length);
        // Nothing smaller would do: fewer than p% lie strictly below it.
        assert.ok(sorted.filter((x) => x < v).length < Math.max(1, (p / 100) * values.length));
      },
    ),
  );
});

test('best is the largest value, 0 for none', () => {
  assert.equal(best([3.5, 9.1, 4]), 9.1);
  assert.equal(best([]), 0);
});
