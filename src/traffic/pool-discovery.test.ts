import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DnsTestServer } from './discovery/dns-test-server.js';
import { FakeClock } from '../core/index.js';
import { Pool } from './pool.js';
import type { PoolConfigInput } from './pool-config.js';
import { poolEvents } from './test-pool-events.js';

let dns: DnsTestServer;
before(async () => {
  dns = await DnsTestServer.start();
});
after(async () => {
  await dns.close();
});

function discoveredPool(
  extra: Partial<PoolConfigInput> & { dns: { name: string; type?: 'A' | 'SRV'; port?: number } },
) {
  const clock = new FakeClock();
  const recorder = poolEvents();
  const { dns: dnsConfig, ...rest } = extra;
  const pool = Pool.fromConfig(
    {
      name: 'web',
      discovery: { dns: { min_interval_ms: 1_000, resolver: dns.address, ...dnsConfig } },
      ...rest,
    },
    { clock, onEvent: recorder.onEvent, dnsQueryTimeoutMs: 200 },
  );
  return { pool, clock, recorder };
}

const picked = (pool: Pool, count: number) =>
  new Set(
    Array.from({ length: count }, () => {
      const pick = pool.pick();
      pick.done({ ok: true });
      return pick.node.address;
    }),
  );

test('a pool follows A records as they change, next to its configured nodes', async () => {
  dns.set('app.test', {
    A: [
      { address: '10.0.0.1', ttl: 1 },
      { address: '10.0.0.2', ttl: 1 },
    ],
  });
  const { pool, clock, recorder } = discoveredPool({
    nodes: [{ address: '192.0.2.1:80' }],
    dns: { name: 'app.test', port: 8080 },
  });
  assert.deepEqual(picked(pool, 3), new Set(['192.0.2.1:80']));
  pool.start();
  assert.deepEqual(await recorder.next('discovery'), {
    type: 'discovery',
    pool: 'web',
    added: ['10.0.0.1:8080', '10.0.0.2:8080'],
    removed: [],
  });
  assert.deepEqual(picked(pool, 6), new Set(['192.0.2.1:80', '10.0.0.1:8080', '10.0.0.2:8080']));
  const status = pool.status();
  assert.deepEqual(
    status.nodes.map((n) => n.source),
    ['config', 'discovery', 'discovery'],
  );
  assert.equal(status.discovery?.nodes, 2);

  dns.set('app.test', {
    A: [
      { address: '10.0.0.2', ttl: 1 },
      { address: '10.0.0.3', ttl: 1 },
    ],
  });
  clock.advance(1_000);
  const change = await recorder.next('discovery');
  assert.deepEqual([change.added, change.removed], [['10.0.0.3:8080'], ['10.0.0.1:8080']]);
  assert.deepEqual(picked(pool, 6), new Set(['192.0.2.1:80', '10.0.0.2:8080', '10.0.0.3:8080']));
  pool.close();
});

test('a node removed from DNS finishes its sessions but gets no new ones', async () => {
  dns.set('drain.test', {
    A: [
      { address: '10.0.1.1', ttl: 1 },
      { address: '10.0.1.2', ttl: 1 },
    ],
  });
  const { pool, clock, recorder } = discoveredPool({ dns: { name: 'drain.test', port: 8080 } });
  pool.start();
  await recorder.next('discovery');
  const held = [pool.pick(), pool.pick()].find((p) => p.node.address === '10.0.1.1:8080')!;
  dns.set('drain.test', { A: [{ address: '10.0.1.2', ttl: 1 }] });
  clock.advance(1_000);
  await recorder.next('discovery');
  const draining = pool.status().nodes.find((n) => n.address === '10.0.1.1:8080')!;
  assert.deepEqual(
    [draining.removed, draining.state, draining.activeConnections],
    [true, 'draining', 1],
  );
  assert.deepEqual(picked(pool, 4), new Set(['10.0.1.2:8080']));
  held.done({ ok: true });
  assert.deepEqual(
    pool.status().nodes.map((n) => n.address),
    ['10.0.1.2:8080'],
  );
  pool.close();
});

test('a failing resolver leaves the last good node set in place', async () => {
  dns.set('keep.test', { A: [{ address: '10.0.2.1', ttl: 1 }] });
  const { pool, clock, recorder } = discoveredPool({ dns: { name: 'keep.test', port: 8080 } });
  pool.start();
  await recorder.next('discovery');
  dns.mode = 'servfail';
  clock.advance(1_000);
  const failure = await recorder.next('discovery_error');
  dns.mode = 'answer';
  assert.equal((failure.error as Error & { code?: string }).code, 'POSTERN_ERR_DISCOVERY_FAILED');
  assert.deepEqual(picked(pool, 3), new Set(['10.0.2.1:8080']));
  assert.match(pool.status().discovery?.lastError ?? '', /ESERVFAIL/);
  pool.close();
});

test('a successful empty answer empties the pool (scale to zero) until records return', async () => {
  dns.set('zero.test', { A: [{ address: '10.0.3.1', ttl: 1 }] });
  const { pool, clock, recorder } = discoveredPool({ dns: { name: 'zero.test', port: 8080 } });
  pool.start();
  await recorder.next('discovery');
  dns.remove('zero.test');
  clock.advance(1_000);
  assert.deepEqual((await recorder.next('discovery')).removed, ['10.0.3.1:8080']);
  assert.throws(() => pool.pick(), { code: 'POSTERN_ERR_POOL_EMPTY' });
  dns.set('zero.test', { A: [{ address: '10.0.3.2', ttl: 1 }] });
  clock.advance(1_000);
  await recorder.next('discovery');
  assert.equal(pool.pick().node.address, '10.0.3.2:8080');
  pool.close();
});

test('a pool follows SRV records, with the ports they give', async () => {
  dns.set('_web._tcp.svc.test', { SRV: [{ target: 'pod-a.svc.test', port: 9001, ttl: 5 }] });
  dns.set('pod-a.svc.test', { A: [{ address: '10.0.4.1', ttl: 5 }] });
  dns.set('pod-b.svc.test', { A: [{ address: '10.0.4.2', ttl: 5 }] });
  // No `port` in the spec: it would override the ports the SRV records give.
  const {
    pool: srv,
    clock,
    recorder,
  } = discoveredPool({ dns: { name: '_web._tcp.svc.test', type: 'SRV' } });
  srv.start();
  assert.deepEqual((await recorder.next('discovery')).added, ['10.0.4.1:9001']);
  dns.set('_web._tcp.svc.test', {
    SRV: [
      { target: 'pod-a.svc.test', port: 9001, ttl: 5 },
      { target: 'pod-b.svc.test', port: 9002, ttl: 5 },
    ],
  });
  clock.advance(1_000);
  assert.deepEqual((await recorder.next('discovery')).added, ['10.0.4.2:9002']);
  assert.deepEqual(picked(srv, 4), new Set(['10.0.4.1:9001', '10.0.4.2:9002']));
  srv.close();
});

test('the discovered set carries over to the next generation before it resolves again', async () => {
  dns.set('carry.test', { A: [{ address: '10.0.5.1', ttl: 60 }] });
  const first = discoveredPool({ dns: { name: 'carry.test', port: 8080 } });
  first.pool.start();
  await first.recorder.next('discovery');
  dns.mode = 'silent';
  const next = Pool.fromConfig(
    { name: 'web', discovery: { dns: { name: 'carry.test', port: 8080, resolver: dns.address } } },
    { previous: first.pool, clock: first.clock, dnsQueryTimeoutMs: 200 },
  );
  next.start();
  first.pool.close();
  assert.equal(next.pick().node.address, '10.0.5.1:8080');
  next.close();
  dns.mode = 'answer';
});

test('a pool fed by remote discovery keeps the reported set across reloads', () => {
  const config = { name: 'web', discovery: { dns: { name: 'app.test', port: 80 } } };
  const first = Pool.fromConfig(config, { discoveryRunsRemotely: true });
  first.start();
  first.setDiscoveredNodes(['10.0.6.1:80', '10.0.6.1:80']);
  assert.equal(first.status().discovery, undefined);
  const next = Pool.fromConfig(config, { discoveryRunsRemotely: true, previous: first });
  next.start();
  first.close();
  const pick = next.pick();
  assert.equal(pick.node.address, '10.0.6.1:80');
  pick.done({ ok: true });
  const plain = Pool.fromConfig(
    { name: 'web', nodes: [{ address: '192.0.2.1:80' }] },
    { previous: next },
  );
  plain.start();
  assert.deepEqual(
    plain.status().nodes.map((n) => n.address),
    ['192.0.2.1:80'],
  );
});
