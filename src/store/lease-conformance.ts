// Part of the store conformance suite (store-conformance.ts): edge leases and the change feed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../core/index.js';
import type { Store, StoreChange } from './store.js';

/** What the lease tests need from the suite: a fresh store and its manual clock. */
export interface LeaseTestContext {
  store: Store;
  time: { clock: Clock; advance(ms: number): void };
}

const lease = (serverId: string, instance: string, ttlMs = 10_000) => ({
  serverId,
  address: `${serverId}.example:8443`,
  instance,
  ttlMs,
});

/** Registers the edge lease and change feed tests every backend must pass. */
export function edgeLeaseTests(ctx: LeaseTestContext): void {
  test('edge leases: renew takes a lease, live lists it until it expires', async () => {
    const now = ctx.time.clock.now();
    const taken = await ctx.store.edges.renew(lease('edge-b', 'i1'));
    assert.deepEqual(taken, {
      serverId: 'edge-b',
      address: 'edge-b.example:8443',
      instance: 'i1',
      startedAt: now,
      renewedAt: now,
      expiresAt: now + 10_000,
    });
    await ctx.store.edges.renew(lease('edge-a', 'i2', 20_000));
    assert.deepEqual(
      (await ctx.store.edges.live()).map((l) => l.serverId),
      ['edge-a', 'edge-b'],
    );
    ctx.time.advance(10_000);
    assert.deepEqual(
      (await ctx.store.edges.live()).map((l) => l.serverId),
      ['edge-a'],
    );
  });

  test('edge leases: renewing by the same instance extends it and keeps its start', async () => {
    const start = ctx.time.clock.now();
    await ctx.store.edges.renew(lease('edge-a', 'i1'));
    ctx.time.advance(6000);
    const renewed = await ctx.store.edges.renew({ ...lease('edge-a', 'i1'), address: 'new:1' });
    assert.equal(renewed.startedAt, start);
    assert.equal(renewed.renewedAt, start + 6000);
    assert.equal(renewed.expiresAt, start + 16_000);
    assert.equal(renewed.address, 'new:1');
    ctx.time.advance(9000);
    assert.equal((await ctx.store.edges.live()).length, 1);
  });

  test('edge leases: another instance cannot take a live id, but takes an expired one', async () => {
    await ctx.store.edges.renew(lease('edge-a', 'first'));
    await assert.rejects(ctx.store.edges.renew(lease('edge-a', 'second')), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'POSTERN_ERR_SERVER_ID_TAKEN');
      return true;
    });
    assert.equal((await ctx.store.edges.live())[0]?.instance, 'first');
    ctx.time.advance(10_000);
    const taken = await ctx.store.edges.renew(lease('edge-a', 'second'));
    assert.equal(taken.instance, 'second');
    assert.equal(taken.startedAt, ctx.time.clock.now());
  });

  test('edge leases: release removes only the own instance, prune only expired ones', async () => {
    await ctx.store.edges.renew(lease('edge-a', 'i1'));
    await ctx.store.edges.renew(lease('edge-b', 'i2', 1000));
    assert.equal(await ctx.store.edges.release('edge-a', 'someone-else'), false);
    assert.equal(await ctx.store.edges.release('edge-a', 'i1'), true);
    assert.equal(await ctx.store.edges.release('edge-a', 'i1'), false);
    await ctx.store.edges.renew(lease('edge-c', 'i3'));
    ctx.time.advance(1000);
    assert.equal(await ctx.store.edges.prune(), 1);
    assert.deepEqual(
      (await ctx.store.edges.live()).map((l) => l.serverId),
      ['edge-c'],
    );
  });

  test('change feed: a subscriber hears announcements until it unsubscribes', async () => {
    const heard: StoreChange[] = [];
    const next = () =>
      new Promise<StoreChange>((resolve) => {
        const off = ctx.store.changes.subscribe((change) => {
          off();
          resolve(change);
        });
      });
    const unsubscribe = ctx.store.changes.subscribe((c) => heard.push(c));
    const first = next();
    await ctx.store.changes.publish({ topic: 'config', origin: 'edge-a' });
    assert.deepEqual(await first, { topic: 'config', origin: 'edge-a' });
    unsubscribe();
    const second = next();
    await ctx.store.changes.publish({ topic: 'edges', origin: 'edge-b' });
    assert.deepEqual(await second, { topic: 'edges', origin: 'edge-b' });
    assert.deepEqual(heard, [{ topic: 'config', origin: 'edge-a' }]);
  });
}
