import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../core/index.js';
import { monitorSpecFromConfig } from './health/monitor-spec.js';
import { Pool, type PoolConstructorOptions } from './pool.js';
import type { PoolNode } from './pool-options.js';

const A = '10.0.0.1:80';
const B = '10.0.0.2:80';
const C = '10.0.0.3:80';
const node = (address: string): PoolNode => ({ address, weight: 1, state: 'active' });
const monitor = monitorSpecFromConfig({ name: 'web', type: 'http', failures: 1 });
const dialer = { dial: () => Promise.reject(new Error('no dialing in this test')) };

function generation(previous: Pool | undefined, extra: Partial<PoolConstructorOptions> = {}) {
  return new Pool({
    name: 'web',
    nodes: [node(A), node(B)],
    monitors: [monitor],
    monitorsRunRemotely: true,
    dialer,
    previous,
    ...extra,
  });
}

const picked = (pool: Pool, count: number) =>
  new Set(
    Array.from({ length: count }, () => {
      const pick = pool.pick();
      pick.done({ ok: true });
      return pick.node.address;
    }),
  );

test('a node marked down by a monitor is still down in the next generation', () => {
  const old = generation(undefined);
  old.start();
  old.recordCheck(A, 'web', { ok: false, detail: 'unexpected status 500' });
  const next = generation(old);
  next.start();
  old.close();
  assert.deepEqual(picked(next, 6), new Set([B]));
  const status = next.status().nodes.find((n) => n.address === A)!;
  assert.equal(status.health, 'down');
  assert.deepEqual(status.monitors, [
    {
      name: 'web',
      health: 'down',
      lastError: 'unexpected status 500',
      lastFailure: 'unexpected status 500',
      lastFailureAt: status.monitors[0]!.lastCheckAt,
      lastCheckAt: status.monitors[0]!.lastCheckAt,
      checks: 1,
    },
  ]);
});

test('a monitor dropped from the configuration no longer holds a node down', () => {
  const old = generation(undefined);
  old.start();
  old.recordCheck(A, 'web', { ok: false, detail: 'down' });
  const next = generation(old, { monitors: [] });
  next.start();
  assert.deepEqual(picked(next, 4), new Set([A, B]));
});

test('passive ejection and counters carry over', () => {
  const clock = new FakeClock();
  const passiveHealth = { failures: 1, on5xx: false, ejectMs: 10_000 };
  const old = generation(undefined, { clock, passiveHealth });
  old.start();
  const pick = old.pick();
  pick.done({ ok: false, kind: 'connect' });
  const next = generation(old, { clock, passiveHealth });
  next.start();
  assert.equal(picked(next, 4).has(pick.node.address), false);
  assert.equal(next.status().nodes.find((n) => n.address === pick.node.address)!.failures, 1);
  clock.advance(10_000);
  assert.equal(picked(next, 4).has(pick.node.address), true);
});

test('sessions open on the old generation count for least connections in the new one', () => {
  const old = generation(undefined, { algorithm: 'least_connections' });
  old.start();
  const held = [old.pick(), old.pick(), old.pick()];
  const busy = held[0]!.node.address;
  assert.equal(held[2]!.node.address, busy);
  const next = generation(old, { algorithm: 'least_connections' });
  next.start();
  const fresh = next.pick();
  assert.notEqual(fresh.node.address, busy);
  for (const h of held) h.done({ ok: true });
  fresh.done({ ok: true });
  assert.deepEqual(
    next.status().nodes.map((n) => n.activeConnections),
    [0, 0],
  );
});

test('source-IP mappings carry over; cookie tokens are the same in every generation', () => {
  const persistence = { type: 'source_ip', ttlMs: 60_000 } as const;
  const old = generation(undefined, { persistence });
  old.start();
  const first = old.pick({ clientIp: '192.0.2.1' });
  first.done({ ok: true });
  const next = generation(old, { persistence });
  next.start();
  for (let i = 0; i < 4; i++) {
    const again = next.pick({ clientIp: '192.0.2.1' });
    again.done({ ok: true });
    assert.equal(again.node.address, first.node.address);
  }
  const cookie = { type: 'cookie', cookieName: 'AFF' } as const;
  const c1 = generation(undefined, { persistence: cookie }).pick();
  const c2 = generation(undefined, { persistence: cookie }).pick({ exclude: new Set([B]) });
  assert.equal(c1.node.address, A);
  assert.equal(c2.setCookie, c1.setCookie);
});

test('a generation built but never started leaves the running one in charge', () => {
  const persistence = { type: 'source_ip', ttlMs: 60_000 } as const;
  const old = generation(undefined, { persistence });
  old.start();
  const pinned = old.pick({ clientIp: '192.0.2.7' });
  pinned.done({ ok: true });
  const abandoned = generation(old);
  void abandoned;
  for (let i = 0; i < 3; i++) {
    const pick = old.pick({ clientIp: '192.0.2.7' });
    pick.done({ ok: true });
    assert.equal(pick.node.address, pinned.node.address);
  }
  const next = generation(old);
  next.start();
  assert.equal(old.status().persistenceEntries, undefined);
});

test('a node removed from configuration drains what it still carries, then disappears', () => {
  const old = new Pool({ name: 'web', nodes: [node(A), node(B), node(C)] });
  old.start();
  const held = [old.pick(), old.pick(), old.pick()].find((p) => p.node.address === C)!;
  const next = new Pool({ name: 'web', nodes: [node(A), node(B)], previous: old });
  next.start();
  const removed = next.status().nodes.find((n) => n.address === C)!;
  assert.deepEqual(
    [removed.removed, removed.state, removed.activeConnections],
    [true, 'draining', 1],
  );
  assert.deepEqual(picked(next, 6), new Set([A, B]));
  held.done({ ok: true });
  assert.equal(
    next.status().nodes.some((n) => n.address === C),
    false,
  );
});

test('a previous pool of another name is refused', () => {
  const old = new Pool({ name: 'web', nodes: [node(A)] });
  assert.throws(() => new Pool({ name: 'api', nodes: [node(A)], previous: old }), {
    code: 'POSTERN_ERR_INVALID_ARGUMENT',
  });
});
