// Part of the store conformance suite (store-conformance.ts): device login attempt counters,
// which every edge of an HA set counts in, so limits hold for the set as a whole.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LeaseTestContext } from './lease-conformance.js';

const WINDOW = 900_000;

/** Registers the device attempt counter tests every backend must pass. */
export function deviceAttemptTests(ctx: LeaseTestContext): void {
  test('device attempts: increment counts within the window and starts over once it ended', async () => {
    const a = ctx.store.deviceAttempts;
    const t = ctx.time.clock.now();
    assert.deepEqual(await a.increment('k', { at: t, windowMs: WINDOW }), {
      attempts: 1,
      windowStart: t,
      expiresAt: t + WINDOW,
    });
    assert.equal((await a.increment('k', { at: t + 10, windowMs: WINDOW })).attempts, 2);
    const third = await a.increment('k', { at: t + WINDOW - 1, windowMs: WINDOW });
    assert.deepEqual(third, { attempts: 3, windowStart: t, expiresAt: t + WINDOW }, 'fixed window');
    assert.deepEqual(await a.get('k', t + WINDOW - 1), third);
    assert.equal(await a.get('k', t + WINDOW), undefined, 'the window ended');
    assert.deepEqual(await a.increment('k', { at: t + WINDOW, windowMs: WINDOW }), {
      attempts: 1,
      windowStart: t + WINDOW,
      expiresAt: t + 2 * WINDOW,
    });
    assert.equal((await a.increment('other', { at: t, windowMs: 60_000 })).attempts, 1, 'per key');
    assert.equal(await a.get('missing', t), undefined);
  });

  test('device attempts: concurrent increments are all counted', async () => {
    const a = ctx.store.deviceAttempts;
    const t = ctx.time.clock.now();
    const counts = await Promise.all(
      Array.from({ length: 20 }, () => a.increment('k', { at: t, windowMs: WINDOW })),
    );
    assert.deepEqual(
      counts.map((c) => c.attempts).sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  test('device attempts: refund takes back one attempt of a running window only', async () => {
    const a = ctx.store.deviceAttempts;
    const t = ctx.time.clock.now();
    await a.increment('k', { at: t, windowMs: WINDOW });
    await a.increment('k', { at: t, windowMs: WINDOW });
    await a.refund('k', t + 1);
    assert.equal((await a.get('k', t + 1))?.attempts, 1);
    await a.refund('k', t + 1);
    await a.refund('k', t + 1);
    assert.equal((await a.get('k', t + 1))?.attempts, 0, 'never below zero');
    await a.increment('k', { at: t, windowMs: WINDOW });
    await a.refund('k', t + WINDOW);
    assert.equal((await a.get('k', t + WINDOW - 1))?.attempts, 1, 'an ended window is kept');
    await a.refund('missing', t);
    assert.equal(await a.get('missing', t), undefined, 'refund creates nothing');
  });

  test('device attempts: sweep deletes only counters whose window ended before the time', async () => {
    const a = ctx.store.deviceAttempts;
    const t = ctx.time.clock.now();
    await a.increment('short', { at: t, windowMs: 1000 });
    await a.increment('long', { at: t, windowMs: 5000 });
    assert.equal(await a.sweep(t + 1000), 0, 'ending at the time itself stays');
    assert.equal(await a.sweep(t + 1001), 1);
    assert.equal(await a.get('short', t), undefined);
    assert.equal((await a.get('long', t))?.attempts, 1);
  });
}
