// Part of the store conformance suite (store-conformance.ts): `postern login --device`
// authorizations, which the CLI may poll on one edge while the user approves on another.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LeaseTestContext } from './lease-conformance.js';
import type { NewDeviceAuthorization } from './store.js';

const pending = (n: number, at: number, ttlMs = 600_000): NewDeviceAuthorization => ({
  deviceKey: `device-${n}`,
  userKey: `user-${n}`,
  clientIp: '198.51.100.7',
  createdAt: at,
  expiresAt: at + ttlMs,
  intervalMs: 5000,
});

const POLL = { leewayMs: 0, slowDownMs: 5000 };

/** Registers the device authorization tests every backend must pass. */
export function deviceAuthorizationTests(ctx: LeaseTestContext): void {
  test('device authorizations: create stores a pending record; a taken key is refused', async () => {
    const d = ctx.store.deviceAuthorizations;
    const t = ctx.time.clock.now();
    assert.equal(await d.create(pending(1, t)), true);
    const expected = { ...pending(1, t), status: 'pending' };
    assert.deepEqual(await d.get('device-1'), expected);
    assert.deepEqual(await d.findByUserKey('user-1'), expected);
    assert.equal(await d.create({ ...pending(2, t), userKey: 'user-1' }), false, 'user key');
    assert.equal(await d.create({ ...pending(3, t), deviceKey: 'device-1' }), false, 'device key');
    assert.equal(await d.get('device-2'), undefined);
    assert.equal(await d.findByUserKey('user-3'), undefined);
  });

  test('device authorizations: decide approves once, with the identity; expired ones stay pending', async () => {
    const d = ctx.store.deviceAuthorizations;
    const t = ctx.time.clock.now();
    await d.create(pending(1, t));
    await d.create(pending(2, t, 1000));
    const identity = { subject: 'alice', groups: ['eng'], idp: 'corp' };
    assert.equal(await d.decide('user-1', { status: 'approved', at: t + 10, identity }), true);
    assert.equal(await d.decide('user-1', { status: 'denied', at: t + 20 }), false, 'decided');
    const approved = await d.get('device-1');
    assert.equal(approved?.status, 'approved');
    assert.deepEqual(approved.identity, identity);
    assert.equal(approved.decidedAt, t + 10);
    assert.equal(await d.decide('user-2', { status: 'approved', at: t + 1000, identity }), false);
    assert.equal((await d.get('device-2'))?.status, 'pending');
    assert.equal(await d.decide('user-9', { status: 'denied', at: t }), false, 'unknown');
  });

  test('device authorizations: a poll sooner than the interval is refused and the interval grows', async () => {
    const d = ctx.store.deviceAuthorizations;
    const t = ctx.time.clock.now();
    await d.create(pending(1, t));
    assert.equal(await d.recordPoll('device-1', { at: t, ...POLL }), true, 'first poll');
    assert.equal(await d.recordPoll('device-1', { at: t + 4999, ...POLL }), false, 'too soon');
    assert.equal((await d.get('device-1'))?.intervalMs, 10_000);
    assert.equal(
      await d.recordPoll('device-1', { at: t + 14_000, ...POLL }),
      false,
      'new interval',
    );
    assert.equal((await d.get('device-1'))?.intervalMs, 15_000);
    assert.equal(await d.recordPoll('device-1', { at: t + 29_000, ...POLL }), true);
    const leeway = { ...POLL, leewayMs: 500 };
    assert.equal(await d.recordPoll('device-1', { at: t + 43_600, ...leeway }), true, 'leeway');
    assert.equal((await d.get('device-1'))?.lastPollAt, t + 43_600);
    assert.equal((await d.get('device-1'))?.intervalMs, 15_000);
  });

  test('device authorizations: take redeems a decided record once, of the given status only', async () => {
    const d = ctx.store.deviceAuthorizations;
    const t = ctx.time.clock.now();
    await d.create(pending(1, t));
    assert.equal(await d.take('device-1', 'approved'), undefined, 'still pending');
    await d.decide('user-1', { status: 'denied', at: t + 1 });
    assert.equal(await d.take('device-1', 'approved'), undefined, 'denied, not approved');
    const [a, b] = await Promise.all([d.take('device-1', 'denied'), d.take('device-1', 'denied')]);
    assert.equal([a, b].filter((r) => r?.status === 'denied').length, 1);
    assert.equal(await d.get('device-1'), undefined);
    assert.equal(await d.findByUserKey('user-1'), undefined, 'the user code is free again');
  });

  test('device authorizations: sweep deletes only those expired before the time', async () => {
    const d = ctx.store.deviceAuthorizations;
    const t = ctx.time.clock.now();
    await d.create(pending(1, t, 1000));
    await d.create(pending(2, t, 5000));
    assert.equal(await d.sweep(t + 1000), 0, 'expiring at the time itself stays');
    assert.equal(await d.sweep(t + 1001), 1);
    assert.equal(await d.get('device-1'), undefined);
    assert.equal((await d.get('device-2'))?.status, 'pending');
  });
}
