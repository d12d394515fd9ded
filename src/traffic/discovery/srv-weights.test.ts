// SRV weights against the in-repo DNS server on 127.0.0.1: the weights the DNS operator
// publishes reach the pool's nodes and the balancer, weight 0 still gets a share, and a change
// of weights alone in DNS is followed after the next resolution.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, test } from 'node:test';
import { FakeClock } from '../../core/index.js';
import { Pool } from '../pool.js';
import type { PoolConfigInput } from '../pool-config.js';
import { poolEvents, until } from '../test-pool-events.js';
import { dnsDiscoverySpecFromConfig, type DnsDiscoveryConfigInput } from './dns-discovery-spec.js';
import { DnsTestServer } from './dns-test-server.js';
import { resolveNodes } from './resolve-nodes.js';

let dns: DnsTestServer;
before(async () => {
  dns = await DnsTestServer.start();
});
after(async () => {
  await dns.close();
});

/** Serves `name` as SRV records, one target per entry, all on 127.0.0.1 with its own port. */
function serveSrv(name: string, targets: { target: string; port: number; weight: number }[]) {
  dns.set(name, { SRV: targets.map((t) => ({ ...t, ttl: 1, priority: 10 })) });
  for (const t of targets) dns.set(t.target, { A: [{ address: '127.0.0.1', ttl: 1 }] });
}

function weightedPool(name: string, clock: FakeClock) {
  const recorder = poolEvents();
  const config: PoolConfigInput = {
    name: 'web',
    algorithm: 'weighted_round_robin',
    discovery: { dns: { name, type: 'SRV', min_interval_ms: 1_000, resolver: dns.address } },
  };
  const pool = Pool.fromConfig(config, {
    clock,
    onEvent: recorder.onEvent,
    dnsQueryTimeoutMs: 200,
  });
  return { pool, recorder };
}

/** Picks `n` sessions (each done at once) and counts them by node port. */
function countPicks(pool: Pool, n: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const pick = pool.pick();
    const port = pick.node.address.split(':')[1]!;
    counts[port] = (counts[port] ?? 0) + 1;
    pick.done({ ok: true });
  }
  return counts;
}

const weights = (pool: Pool) =>
  Object.fromEntries(pool.status().nodes.map((n) => [n.address.split(':')[1]!, n.weight]));

test('SRV weights reach the pool: weighted round robin follows them, weight 0 counts as 1', async () => {
  const name = '_w._tcp.weights.test';
  serveSrv(name, [
    { target: 'heavy.weights.test', port: 31001, weight: 4 },
    { target: 'light.weights.test', port: 31002, weight: 2 },
    { target: 'zero.weights.test', port: 31003, weight: 0 },
  ]);
  const { pool, recorder } = weightedPool(name, new FakeClock());
  pool.start();
  await recorder.next('discovery');
  assert.deepEqual(weights(pool), { 31001: 4, 31002: 2, 31003: 1 });
  // Smooth weighted round robin gives exact shares over any multiple of the total weight (7).
  assert.deepEqual(countPicks(pool, 70), { 31001: 40, 31002: 20, 31003: 10 });
  pool.close();
});

test('a weight changed in DNS alone (same addresses) reaches the pool at the next resolution', async () => {
  const name = '_w._tcp.change.test';
  serveSrv(name, [
    { target: 'a.change.test', port: 31011, weight: 3 },
    { target: 'b.change.test', port: 31012, weight: 1 },
  ]);
  const clock = new FakeClock();
  const { pool, recorder } = weightedPool(name, clock);
  pool.start();
  await recorder.next('discovery');
  assert.deepEqual(countPicks(pool, 40), { 31011: 30, 31012: 10 });

  serveSrv(name, [
    { target: 'a.change.test', port: 31011, weight: 1 },
    { target: 'b.change.test', port: 31012, weight: 3 },
  ]);
  const asked = dns.count(name, 'SRV');
  await until(() => (pool.status().discovery?.nextRefreshAt ?? 0) > clock.now(), 'scheduling');
  clock.advance(1_000);
  await until(() => weights(pool)[31012] === 3, 'the new weights in the pool');
  assert.ok(dns.count(name, 'SRV') > asked);
  assert.deepEqual(weights(pool), { 31011: 1, 31012: 3 });
  assert.deepEqual(countPicks(pool, 40), { 31011: 10, 31012: 30 });
  // Only the weights changed: no node was added or removed.
  assert.equal(recorder.events.filter((e) => e.type === 'discovery').length, 1);
  pool.close();
});

const resolve = (config: DnsDiscoveryConfigInput) => {
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([dns.address]);
  return resolveNodes(resolver, dnsDiscoverySpecFromConfig('p', config));
};

test('records naming the same address add their weights; other priorities and A records give none', async () => {
  const name = '_w._tcp.sum.test';
  dns.set(name, {
    SRV: [
      { target: 'one.sum.test', port: 80, ttl: 1, priority: 1, weight: 5 },
      { target: 'alias.sum.test', port: 80, ttl: 1, priority: 1, weight: 2 },
      { target: 'two.sum.test', port: 80, ttl: 1, priority: 1, weight: 0 },
      { target: 'backup.sum.test', port: 80, ttl: 1, priority: 2, weight: 9 },
    ],
  });
  dns.set('one.sum.test', { A: [{ address: '10.7.0.1', ttl: 1 }] });
  dns.set('alias.sum.test', { A: [{ address: '10.7.0.1', ttl: 1 }] });
  dns.set('two.sum.test', {
    A: [{ address: '10.7.0.2', ttl: 1 }],
    AAAA: [{ address: 'fd00::7', ttl: 1 }],
  });
  dns.set('backup.sum.test', { A: [{ address: '10.7.0.9', ttl: 1 }] });
  const srv = await resolve({ name, type: 'SRV' });
  assert.deepEqual(srv.nodes, ['10.7.0.1:80', '10.7.0.2:80', '[fd00::7]:80']);
  // Each address of a target takes the record's weight.
  assert.deepEqual(Object.fromEntries(srv.weights), {
    '10.7.0.1:80': 7,
    '10.7.0.2:80': 1,
    '[fd00::7]:80': 1,
  });

  dns.set('plain.sum.test', { A: [{ address: '10.7.1.1', ttl: 1 }] });
  const a = await resolve({ name: 'plain.sum.test', port: 8080 });
  assert.deepEqual([a.nodes, a.weights.size], [['10.7.1.1:8080'], 0]);
});
