import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_WINDOW } from '../protocol/index.js';
import { ReceiveWindow, WindowBudget } from './receive-window.js';

const KiB = 1024;

test('grants are batched until half the window is free', () => {
  const w = new ReceiveWindow({ initial: INITIAL_WINDOW, max: 16 * 1024 * KiB, nowMs: 0 });
  w.received(100 * KiB);
  assert.equal(w.grant(0, { nowMs: 1000, rttMs: 1 }), 0, '100 KiB consumed is not worth a frame');
  w.received(28 * KiB);
  assert.equal(w.grant(0, { nowMs: 1000, rttMs: 1 }), 128 * KiB);
  assert.equal(w.credit, INITIAL_WINDOW);
});

test('unread bytes are not granted again', () => {
  const w = new ReceiveWindow({ initial: INITIAL_WINDOW, max: INITIAL_WINDOW, nowMs: 0 });
  w.received(INITIAL_WINDOW);
  assert.equal(w.grant(INITIAL_WINDOW, { nowMs: 10, rttMs: 1 }), 0);
  assert.equal(w.grant(INITIAL_WINDOW - 200 * KiB, { nowMs: 10, rttMs: 1 }), 200 * KiB);
  assert.equal(
    w.credit + (INITIAL_WINDOW - 200 * KiB),
    INITIAL_WINDOW,
    'credit plus unread equals the window',
  );
});

test('fast consumption doubles the window up to the ceiling', () => {
  const max = 2 * 1024 * KiB;
  const w = new ReceiveWindow({ initial: INITIAL_WINDOW, max, nowMs: 0 });
  const sizes: number[] = [];
  for (let i = 0; i < 10; i += 1) {
    w.received(w.credit);
    w.grant(0, { nowMs: 0.1 * (i + 1), rttMs: 5 });
    sizes.push(w.target);
  }
  assert.deepEqual(sizes.slice(0, 4), [512 * KiB, 1024 * KiB, 2048 * KiB, 2048 * KiB]);
  assert.ok(sizes.every((s) => s <= max));
});

test('slow consumption keeps the window where it is', () => {
  const w = new ReceiveWindow({ initial: INITIAL_WINDOW, max: 16 * 1024 * KiB, nowMs: 0 });
  for (let i = 1; i <= 10; i += 1) {
    w.received(w.credit);
    w.grant(0, { nowMs: i * 1000, rttMs: 5 });
  }
  assert.equal(w.target, INITIAL_WINDOW);
});

test('growth beyond the initial window comes from the session budget and is returned on dispose', () => {
  const budget = new WindowBudget(384 * 1024);
  const fast = () =>
    new ReceiveWindow({ initial: 256 * 1024, max: 16 * 1024 * 1024, nowMs: 0, budget });
  const a = fast();
  const b = fast();
  // Each consumes half its window instantly (elapsed 0 ms): window-limited, so it wants to double.
  const drain = (w: ReceiveWindow) => {
    w.received(w.credit);
    w.grant(0, { nowMs: 0, rttMs: 1 });
  };
  drain(a);
  assert.equal(a.target, 512 * 1024, 'a doubles: 256 KiB taken');
  drain(b);
  assert.equal(b.target, 384 * 1024, 'b gets only what is left: 128 KiB');
  assert.equal(budget.available, 0);
  drain(a);
  assert.equal(a.target, 512 * 1024, 'no budget left, no growth');
  a.dispose();
  assert.equal(budget.available, 256 * 1024);
  a.dispose();
  assert.equal(budget.available, 256 * 1024, 'dispose is idempotent');
});
