import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../core/index.js';
import { nodeToken } from './persistence/index.js';
import { Pool, type PoolConstructorOptions } from './pool.js';
import type { PoolEvent, PoolNode } from './pool-options.js';

const nodes = (...states: PoolNode['state'][]): PoolNode[] =>
  states.map((state, i) => ({ address: `10.0.0.${i + 1}:80`, weight: 1, state }));

const addressesOf = (pool: Pool, count: number, options = {}) =>
  Array.from({ length: count }, () => {
    const pick = pool.pick(options);
    pick.done({ ok: true });
    return pick.node.address;
  });

const fail = (
  pool: Pool,
  address: string,
  kind: 'connect' | 'reset' | 'timeout' | 'status_5xx',
) => {
  const pick = pool.pick({ exclude: new Set(nodesExcept(pool, address)) });
  assert.equal(pick.node.address, address);
  pick.done({ ok: false, kind });
};

const nodesExcept = (pool: Pool, address: string) =>
  pool
    .status()
    .nodes.map((n) => n.address)
    .filter((a) => a !== address);

function pool(extra: Partial<PoolConstructorOptions> = {}) {
  const clock = new FakeClock();
  const events: PoolEvent[] = [];
  const p = new Pool({
    name: 'web',
    nodes: nodes('active', 'active', 'active'),
    clock,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  p.start();
  return { pool: p, clock, events };
}

test('a pool built the old way picks active nodes in turn and skips draining and disabled ones', () => {
  const p = new Pool({
    name: 'web',
    via: 'site-a',
    nodes: nodes('active', 'draining', 'active', 'disabled'),
  });
  assert.equal(p.via, 'site-a');
  assert.deepEqual(addressesOf(p, 4), ['10.0.0.1:80', '10.0.0.3:80', '10.0.0.1:80', '10.0.0.3:80']);
  assert.deepEqual(
    p.activeNodes.map((n) => n.address),
    ['10.0.0.1:80', '10.0.0.3:80'],
  );
});

test('a pool without an active node, or with all excluded, throws POSTERN_ERR_POOL_EMPTY', () => {
  assert.throws(() => new Pool({ name: 'x', nodes: nodes('draining', 'disabled') }).pick(), {
    code: 'POSTERN_ERR_POOL_EMPTY',
  });
  const p = new Pool({ name: 'x', nodes: nodes('active') });
  assert.throws(() => p.pick({ exclude: new Set(['10.0.0.1:80']) }), {
    code: 'POSTERN_ERR_POOL_EMPTY',
  });
});

test('least connections counts picks until done, and a second done changes nothing', () => {
  const { pool: p } = pool({ algorithm: 'least_connections' });
  const first = p.pick();
  const second = p.pick();
  assert.notEqual(first.node.address, second.node.address);
  const third = p.pick();
  second.done({ ok: true });
  second.done({ ok: true });
  assert.equal(p.pick().node.address, second.node.address);
  assert.deepEqual(
    p.status().nodes.map((n) => n.activeConnections),
    [1, 1, 1],
  );
  first.done({ ok: true });
  third.done({ ok: true });
});

test('consecutive connect failures eject a node for eject_ms, then it is back', () => {
  const {
    pool: p,
    clock,
    events,
  } = pool({ passiveHealth: { failures: 3, on5xx: false, ejectMs: 30_000 } });
  const bad = '10.0.0.2:80';
  for (const kind of ['connect', 'timeout', 'reset'] as const) fail(p, bad, kind);
  assert.ok(!addressesOf(p, 20).includes(bad));
  const status = p.status().nodes.find((n) => n.address === bad)!;
  assert.equal(status.health, 'down');
  assert.equal(status.ejectedUntil, clock.now() + 30_000);
  assert.equal(status.lastError, 'reset');
  assert.equal(status.failures, 3);
  assert.deepEqual(events.at(-1), {
    type: 'node_health',
    pool: 'web',
    address: bad,
    health: 'down',
    source: 'passive',
    detail: '3 failed sessions in a row (last: reset)',
  });
  clock.advance(29_999);
  assert.ok(!addressesOf(p, 6).includes(bad));
  clock.advance(1);
  assert.ok(addressesOf(p, 6).includes(bad));
  assert.equal(p.status().nodes.find((n) => n.address === bad)!.consecutiveFailures, 0);
});

test('a success between failures restarts the count; 5xx counts only with on_5xx', () => {
  const { pool: p } = pool({ passiveHealth: { failures: 2, on5xx: false, ejectMs: 1_000 } });
  const bad = '10.0.0.1:80';
  fail(p, bad, 'connect');
  const ok = p.pick({ exclude: new Set(nodesExcept(p, bad)) });
  ok.done({ ok: true });
  fail(p, bad, 'connect');
  fail(p, bad, 'status_5xx');
  fail(p, bad, 'status_5xx');
  assert.equal(p.status().nodes[0]!.health, 'unknown');
  const strict = pool({ passiveHealth: { failures: 2, on5xx: true, ejectMs: 1_000 } }).pool;
  fail(strict, bad, 'status_5xx');
  fail(strict, bad, 'status_5xx');
  assert.equal(strict.status().nodes[0]!.health, 'down');
});

test("failures that are not the node's fault never eject it", () => {
  const { pool: p } = pool({ passiveHealth: { failures: 1, on5xx: false, ejectMs: 1_000 } });
  for (let i = 0; i < 5; i++)
    p.pick({ exclude: new Set(nodesExcept(p, '10.0.0.1:80')) }).done({ ok: false });
  assert.equal(p.status().nodes[0]!.health, 'unknown');
  assert.equal(p.status().nodes[0]!.failures, 5);
});

test('panic all: with every node down, sessions go to all active nodes and status says panic', () => {
  const { pool: p, events } = pool({
    passiveHealth: { failures: 1, on5xx: false, ejectMs: 60_000 },
  });
  for (const n of p.status().nodes) fail(p, n.address, 'connect');
  assert.equal(p.status().available, 0);
  assert.equal(new Set(addressesOf(p, 6)).size, 3);
  const status = p.status();
  assert.equal(status.panic, true);
  assert.equal(status.down, false);
  assert.deepEqual(
    events.filter((e) => e.type === 'panic'),
    [{ type: 'panic', pool: 'web', panic: true, mode: 'all' }],
  );
});

test('panic none: with every node down, pick throws POSTERN_ERR_POOL_DOWN', () => {
  const { pool: p } = pool({
    panic: 'none',
    passiveHealth: { failures: 1, on5xx: false, ejectMs: 60_000 },
  });
  for (const n of p.status().nodes) fail(p, n.address, 'connect');
  assert.throws(() => p.pick(), { code: 'POSTERN_ERR_POOL_DOWN' });
  assert.equal(p.status().down, true);
  assert.equal(p.status().panic, false);
});

test('cookie persistence sets a cookie once and keeps the client on its node', () => {
  const { pool: p } = pool({ persistence: { type: 'cookie', cookieName: 'AFF', ttlMs: 60_000 } });
  assert.equal(p.persistenceCookie, 'AFF');
  const first = p.pick();
  first.done({ ok: true });
  const setCookie = first.setCookie!;
  assert.match(setCookie, /^AFF=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=60$/);
  const header = `other=1; ${setCookie.split(';')[0]}`;
  for (let i = 0; i < 5; i++) {
    const again = p.pick({ cookie: header });
    assert.equal(again.node.address, first.node.address);
    assert.equal(again.setCookie, undefined);
    again.done({ ok: true });
  }
  const excluded = p.pick({ cookie: header, exclude: new Set([first.node.address]) });
  assert.notEqual(excluded.node.address, first.node.address);
  assert.ok(excluded.setCookie?.startsWith('AFF='));
});

test('with a key, the persistence cookie is an HMAC of pool and node: a plain hash of the address does not match it', () => {
  const key = Buffer.alloc(32, 7);
  const { pool: p } = pool({ persistence: { type: 'cookie', cookieName: 'AFF', key } });
  const first = p.pick();
  first.done({ ok: true });
  const token = first.setCookie!.split(';')[0]!.slice('AFF='.length);
  assert.equal(token, nodeToken(p.name, first.node.address, key));
  assert.notEqual(token, nodeToken(p.name, first.node.address));
  const again = p.pick({ cookie: `AFF=${token}` });
  assert.equal(again.node.address, first.node.address);
  again.done({ ok: true });
});

test('cookie persistence moves a client off a node that went down, with a new cookie', () => {
  const { pool: p } = pool({
    persistence: { type: 'cookie', cookieName: 'AFF' },
    passiveHealth: { failures: 1, on5xx: false, ejectMs: 60_000 },
  });
  const first = p.pick();
  first.done({ ok: false, kind: 'connect' });
  const cookie = first.setCookie!.split(';')[0]!;
  const moved = p.pick({ cookie });
  assert.notEqual(moved.node.address, first.node.address);
  assert.ok(moved.setCookie !== undefined && moved.setCookie.split(';')[0] !== cookie);
  assert.equal(first.setCookie, 'AFF=' + cookie.slice(4) + '; Path=/; HttpOnly; SameSite=Lax');
});

test('persistent sessions continue on a configured draining node but not on a disabled one', () => {
  const options = { persistence: { type: 'cookie', cookieName: 'AFF' } } as const;
  const before = pool({ ...options, nodes: nodes('active', 'active') }).pool;
  const pinned = before.pick();
  const cookie = pinned.setCookie!.split(';')[0]!;
  const draining = nodes('active', 'active').map((n) =>
    n.address === pinned.node.address ? { ...n, state: 'draining' as const } : n,
  );
  const after = new Pool({ name: 'web', nodes: draining, previous: before, ...options });
  assert.equal(after.pick({ cookie }).node.address, pinned.node.address);
  const disabled = draining.map((n) =>
    n.state === 'draining' ? { ...n, state: 'disabled' as const } : n,
  );
  const later = new Pool({ name: 'web', nodes: disabled, previous: after, ...options });
  assert.notEqual(later.pick({ cookie }).node.address, pinned.node.address);
});

test('source-IP persistence pins a client until the TTL passes without use', () => {
  const { pool: p, clock } = pool({ persistence: { type: 'source_ip', ttlMs: 10_000 } });
  const a = addressesOf(p, 4, { clientIp: '192.0.2.1' });
  assert.equal(new Set(a).size, 1);
  const b = addressesOf(p, 1, { clientIp: '192.0.2.2' });
  assert.notEqual(b[0], a[0]);
  assert.equal(p.status().persistenceEntries, 2);
  clock.advance(10_000);
  const spread = new Set([...addressesOf(p, 1, { clientIp: '192.0.2.1' }), ...addressesOf(p, 3)]);
  assert.equal(spread.size, 3);
});

test('fastest response time follows reported response times and shuns failing nodes', () => {
  const { pool: p } = pool({ algorithm: 'fastest_response_time' });
  const times: Record<string, number> = { '10.0.0.1:80': 40, '10.0.0.2:80': 5, '10.0.0.3:80': 20 };
  for (let i = 0; i < 3; i++) {
    const pick = p.pick();
    pick.done({ ok: true, responseMs: times[pick.node.address]! });
  }
  assert.deepEqual(new Set(addressesOf(p, 5)), new Set(['10.0.0.2:80']));
  const fast = p.pick();
  fast.done({ ok: false, kind: 'connect', responseMs: 0.1 });
  assert.equal(p.pick().node.address, '10.0.0.3:80');
  assert.ok(p.status().nodes[1]!.avgResponseMs! > 1_000);
});

test('status is plain data that survives JSON', () => {
  const { pool: p } = pool({
    algorithm: 'weighted_round_robin',
    persistence: { type: 'source_ip', ttlMs: 1_000 },
  });
  p.pick({ clientIp: '192.0.2.9' });
  const status = p.status();
  const plain = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') {
      assert.notEqual(typeof value, 'function', path);
      return;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    assert.ok(Array.isArray(value) || proto === Object.prototype, `${path} is a class instance`);
    for (const [key, inner] of Object.entries(value)) plain(inner, `${path}.${key}`);
  };
  plain(status, 'status');
  assert.equal(status.algorithm, 'weighted_round_robin');
  assert.equal(status.nodes.length, 3);
  assert.deepEqual(Object.keys(status.nodes[0]!).sort(), [
    'activeConnections',
    'address',
    'avgResponseMs',
    'consecutiveFailures',
    'ejectedUntil',
    'failures',
    'health',
    'inUse',
    'lastError',
    'lastErrorAt',
    'lastResponseMs',
    'maxConnections',
    'monitors',
    'picks',
    'priority',
    'removed',
    'requests',
    'responseTimes',
    'sessions',
    'slowStart',
    'source',
    'state',
    'weight',
  ]);
  assert.equal(
    status.nodes.reduce((sum, n) => sum + n.activeConnections, 0),
    1,
  );
});

test('passive health can be turned off in configuration', () => {
  const p = Pool.fromConfig(
    {
      name: 'web',
      nodes: [{ address: 'a:80' }, { address: 'b:80' }],
      passive_health: { enabled: false },
    },
    {},
  );
  for (let i = 0; i < 20; i++)
    p.pick({ exclude: new Set(['b:80']) }).done({ ok: false, kind: 'connect' });
  assert.equal(p.status().nodes[0]!.health, 'unknown');
  assert.equal(p.status().nodes[0]!.failures, 20);
});

test('a pool naming an unknown monitor, or monitors without a dialer, is refused with a code', () => {
  const config = { name: 'web', nodes: [{ address: 'a:80' }], monitors: ['health'] };
  assert.throws(() => Pool.fromConfig(config, { monitors: [] }), {
    code: 'POSTERN_ERR_POOL_INVALID',
    message: /monitor "health" is not defined/,
  });
  assert.throws(() => Pool.fromConfig(config, { monitors: [{ name: 'health', type: 'tcp' }] }), {
    code: 'POSTERN_ERR_POOL_INVALID',
    message: /need a dialer/,
  });
});
