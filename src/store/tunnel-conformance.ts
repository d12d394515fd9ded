// Part of the store conformance suite (store-conformance.ts): connector tunnels per edge.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LeaseTestContext } from './lease-conformance.js';
import type { ConnectorTunnelRecord } from './store.js';

const lease = (serverId: string, ttlMs = 10_000) => ({
  serverId,
  address: `${serverId}.example:8443`,
  instance: `${serverId}-instance`,
  ttlMs,
});

const tunnel = (connectorId: string, serverId: string, since: number): ConnectorTunnelRecord => ({
  connectorId,
  serverId,
  remoteAddress: `192.0.2.1:${since % 60_000}`,
  since,
});

/** Registers the connector tunnel tests every backend must pass. */
export function connectorTunnelTests(ctx: LeaseTestContext): void {
  test('connector tunnels: up records a tunnel per edge, list shows them by connector and edge', async () => {
    const now = ctx.time.clock.now();
    await ctx.store.edges.renew(lease('edge-a'));
    await ctx.store.edges.renew(lease('edge-b'));
    await ctx.store.tunnels.up(tunnel('c2', 'edge-a', now));
    await ctx.store.tunnels.up(tunnel('c1', 'edge-b', now + 1));
    await ctx.store.tunnels.up(tunnel('c1', 'edge-a', now + 2));
    assert.deepEqual(await ctx.store.tunnels.list(), [
      tunnel('c1', 'edge-a', now + 2),
      tunnel('c1', 'edge-b', now + 1),
      tunnel('c2', 'edge-a', now),
    ]);
    assert.deepEqual(await ctx.store.tunnels.list('c2'), [tunnel('c2', 'edge-a', now)]);
    assert.deepEqual(await ctx.store.tunnels.list('unknown'), []);
  });

  test('connector tunnels: up again replaces the row, down removes only that edge', async () => {
    const now = ctx.time.clock.now();
    await ctx.store.edges.renew(lease('edge-a'));
    await ctx.store.edges.renew(lease('edge-b'));
    await ctx.store.tunnels.up(tunnel('c1', 'edge-a', now));
    await ctx.store.tunnels.up(tunnel('c1', 'edge-b', now));
    const again = { ...tunnel('c1', 'edge-a', now + 5000), remoteAddress: '198.51.100.7:4000' };
    await ctx.store.tunnels.up(again);
    assert.deepEqual(await ctx.store.tunnels.list('c1'), [again, tunnel('c1', 'edge-b', now)]);
    assert.equal(await ctx.store.tunnels.down('c1', 'edge-b'), true);
    assert.equal(await ctx.store.tunnels.down('c1', 'edge-b'), false);
    assert.deepEqual(await ctx.store.tunnels.list('c1'), [again]);
  });

  test('connector tunnels: rows of an edge without a live lease are not listed', async () => {
    const now = ctx.time.clock.now();
    await ctx.store.edges.renew(lease('edge-a', 20_000));
    await ctx.store.edges.renew(lease('edge-b', 5000));
    await ctx.store.tunnels.up(tunnel('c1', 'edge-a', now));
    await ctx.store.tunnels.up(tunnel('c1', 'edge-b', now));
    await ctx.store.tunnels.up(tunnel('c1', 'edge-never-leased', now));
    assert.deepEqual(
      (await ctx.store.tunnels.list('c1')).map((t) => t.serverId),
      ['edge-a', 'edge-b'],
    );
    ctx.time.advance(5000);
    assert.deepEqual(
      (await ctx.store.tunnels.list()).map((t) => t.serverId),
      ['edge-a'],
    );
    // A released lease hides the edge's rows at once, and a renewed one shows them again.
    await ctx.store.edges.release('edge-a', 'edge-a-instance');
    assert.deepEqual(await ctx.store.tunnels.list(), []);
    await ctx.store.edges.renew(lease('edge-a'));
    assert.equal((await ctx.store.tunnels.list()).length, 1);
  });

  test('connector tunnels: releaseEdge forgets every tunnel of that edge only', async () => {
    const now = ctx.time.clock.now();
    await ctx.store.edges.renew(lease('edge-a'));
    await ctx.store.edges.renew(lease('edge-b'));
    await ctx.store.tunnels.up(tunnel('c1', 'edge-a', now));
    await ctx.store.tunnels.up(tunnel('c2', 'edge-a', now));
    await ctx.store.tunnels.up(tunnel('c1', 'edge-b', now));
    assert.equal(await ctx.store.tunnels.releaseEdge('edge-a'), 2);
    assert.equal(await ctx.store.tunnels.releaseEdge('edge-a'), 0);
    assert.deepEqual(await ctx.store.tunnels.list(), [tunnel('c1', 'edge-b', now)]);
  });
}
