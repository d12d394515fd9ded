import assert from 'node:assert/strict';
import { test } from 'node:test';
import { monitorSpecFromConfig } from './health/monitor-spec.js';
import { Pool, type PoolConstructorOptions } from './pool.js';
import type { PoolNode } from './pool-options.js';

// Two groups: A and B (priority 2) are preferred, C and D (priority 1) are the backups.
const A = '10.0.0.1:80';
const B = '10.0.0.2:80';
const C = '10.0.0.3:80';
const D = '10.0.0.4:80';
const node = (address: string, priority: number): PoolNode => ({
  address,
  weight: 1,
  state: 'active',
  priority,
});
const monitor = monitorSpecFromConfig({ name: 'hc', type: 'http', failures: 1, successes: 1 });
const dialer = { dial: () => Promise.reject(new Error('no dialing in this test')) };

function pool(extra: Partial<PoolConstructorOptions> = {}): Pool {
  const p = new Pool({
    name: 'web',
    nodes: [node(A, 2), node(B, 2), node(C, 1), node(D, 1)],
    monitors: [monitor],
    monitorsRunRemotely: true,
    dialer,
    priorityNodes: 1,
    ...extra,
  });
  p.start();
  return p;
}

const picked = (p: Pool, count: number, options = {}) =>
  new Set(
    Array.from({ length: count }, () => {
      const pick = p.pick(options);
      pick.done({ ok: true });
      return pick.node.address;
    }),
  );

const down = (p: Pool, address: string) => p.recordCheck(address, 'hc', { ok: false, detail: 'x' });
const up = (p: Pool, address: string) => p.recordCheck(address, 'hc', { ok: true, detail: 'ok' });

test('without priority lists every available node takes sessions, whatever its priority', () => {
  assert.deepEqual(picked(pool({ priorityNodes: undefined }), 8), new Set([A, B, C, D]));
});

test('priority_nodes 1: only the top group is used while one of its nodes is available', () => {
  const p = pool();
  assert.deepEqual(picked(p, 8), new Set([A, B]));
  down(p, A);
  assert.deepEqual(picked(p, 8), new Set([B]));
  down(p, B);
  assert.deepEqual(picked(p, 8), new Set([C, D]), 'the backups take over');
  up(p, A);
  assert.deepEqual(picked(p, 8), new Set([A]), 'new sessions go back to the top group');
});

test('priority_nodes 2: the next group joins as soon as the top group has fewer than 2 available', () => {
  const p = pool({ priorityNodes: 2 });
  assert.deepEqual(picked(p, 8), new Set([A, B]));
  down(p, A);
  assert.deepEqual(picked(p, 12), new Set([B, C, D]));
  up(p, A);
  assert.deepEqual(picked(p, 8), new Set([A, B]));
});

test('groups are added until priority_nodes are in use or none is left', () => {
  const p = pool({
    nodes: [node(A, 5), node(B, 3), node(C, 0), node(D, 0)],
    priorityNodes: 3,
  });
  assert.deepEqual(picked(p, 12), new Set([A, B, C, D]), '1 + 1 < 3, so the group of 0 joins');
  const two = pool({ nodes: [node(A, 5), node(B, 3), node(C, 0)], priorityNodes: 2 });
  assert.deepEqual(picked(two, 8), new Set([A, B]));
});

test('source-IP persistence to a backup node is not honoured while the top group is up', () => {
  const p = pool({ persistence: { type: 'source_ip', ttlMs: 60_000 } });
  down(p, A);
  down(p, B);
  const client = { clientIp: '192.0.2.7' };
  const pinned = p.pick(client);
  pinned.done({ ok: true });
  assert.ok([C, D].includes(pinned.node.address), pinned.node.address);
  up(p, B);
  assert.deepEqual(picked(p, 4, client), new Set([B]), 'balanced afresh to the top group');
});

test('cookie persistence to a backup node is not honoured while the top group is up', () => {
  const p = pool({ persistence: { type: 'cookie', cookieName: 'AFF' } });
  down(p, A);
  down(p, B);
  const first = p.pick();
  first.done({ ok: true });
  assert.ok([C, D].includes(first.node.address), first.node.address);
  const cookie = first.setCookie!.split(';')[0]!;
  const again = p.pick({ cookie });
  again.done({ ok: true });
  assert.equal(again.node.address, first.node.address, 'kept while the backups are in use');
  up(p, A);
  const moved = p.pick({ cookie });
  moved.done({ ok: true });
  assert.equal(moved.node.address, A);
  assert.ok(moved.setCookie !== undefined, 'the client is pinned to its new node');
});

test('every node down: panic mode all still tries every active node', () => {
  const p = pool();
  for (const address of [A, B, C, D]) down(p, address);
  assert.deepEqual(picked(p, 8), new Set([A, B, C, D]));
  assert.equal(p.status().panic, true);
});

test('status shows each node priority, which are in use, and priority_nodes', () => {
  const p = pool();
  down(p, A);
  const status = p.status();
  assert.equal(status.priorityNodes, 1);
  assert.equal(status.available, 1);
  assert.deepEqual(
    status.nodes.map((n) => [n.address, n.priority, n.inUse]),
    [
      [A, 2, false],
      [B, 2, true],
      [C, 1, false],
      [D, 1, false],
    ],
  );
  const off = pool({ priorityNodes: undefined }).status();
  assert.equal(off.priorityNodes, undefined);
  assert.deepEqual(
    off.nodes.map((n) => n.inUse),
    [undefined, undefined, undefined, undefined],
  );
});

test('from configuration: priority_enabled with node priorities, discovered nodes count as 1', () => {
  const p = Pool.fromConfig(
    {
      name: 'web',
      priority_enabled: true,
      priority_nodes: 1,
      nodes: [{ address: A, priority: 0 }],
      discovery: { dns: { name: 'web.internal', port: 80 } },
    },
    { discoveryRunsRemotely: true },
  );
  p.start();
  p.setDiscoveredNodes([B]);
  assert.deepEqual(picked(p, 4), new Set([B]), 'the discovered node (1) outranks priority 0');
  assert.equal(p.status().nodes.find((n) => n.address === B)?.priority, 1);
  const off = Pool.fromConfig(
    { name: 'web', priority_nodes: 1, nodes: [{ address: A, priority: 0 }, { address: B }] },
    {},
  );
  off.start();
  assert.deepEqual(picked(off, 4), new Set([A, B]), 'priority_enabled defaults to false');
});
