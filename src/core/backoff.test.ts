import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.js';

test('backoff grows by the factor and stops at the cap', () => {
  const b = new Backoff({ initialMs: 1000, factor: 1.5, maxMs: 10_000, jitter: 0 });
  const delays = Array.from({ length: 8 }, () => b.next());
  assert.deepEqual(delays, [1000, 1500, 2250, 3375, 5063, 7594, 10000, 10000]);
});

test('backoff jitter stays within the configured fraction', () => {
  const low = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 });
  const high = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.999999 });
  assert.equal(low.next(), 800);
  assert.equal(high.next(), 1200);
});

test('backoff reset starts from the initial delay again', () => {
  const b = new Backoff({ initialMs: 100, jitter: 0 });
  b.next();
  b.next();
  b.reset();
  assert.equal(b.next(), 100);
});

test('backoff rejects nonsensical options with a coded error', () => {
  assert.throws(() => new Backoff({ initialMs: 0 }), { code: 'POSTERN_ERR_INVALID_ARGUMENT' });
  assert.throws(() => new Backoff({ jitter: 2 }), { code: 'POSTERN_ERR_INVALID_ARGUMENT' });
});
