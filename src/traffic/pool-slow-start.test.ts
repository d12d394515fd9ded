import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../core/index.js';
import { poolSchema } from '../config/index.js';
import { seededRandom, type BalancerAlgorithm } from './balancers/index.js';
import { Pool } from './pool.js';
import type { PoolConstructorOptions } from './pool.js';
import type { PoolNode } from './pool-options.js';

const A = '10.0.0.1:80';
const B = '10.0.0.2:80';
const C = '10.0.0.3:80';
const node = (address: string, weight = 1): PoolNode => ({ address, weight, state: 'active' });

/** Picks `rounds` times holding every session, then ends them all; the share `address` got. */
function shareOf(pool: Pool, address: string, rounds = 3_000): number {
  const picks = Array.from({ length: rounds }, () => pool.pick());
  for (const pick of picks) pick.done({ ok: true, responseMs: 10 });
  return picks.filter((p) => p.node.address === address).length / rounds;
}

function near(got: number, want: number, what: string, slack = 0.02): void {
  assert.ok(
    Math.abs(got - want) <= slack,
    `${what}: share ${got.toFixed(3)}, want ${want.toFixed(3)}`,
  );
}

/** Share of a node with `ramp` among two full nodes of weight 1. */
const rampShare = (ramp: number) => ramp / (2 + ramp);

function started(extra: Partial<PoolConstructorOptions> & { clock: FakeClock }): Pool {
  const pool = new Pool({
    name: 'web',
    nodes: [node(A), node(B), node(C)],
    passiveHealth: { failures: 1, on5xx: false, ejectMs: 1_000 },
    random: seededRandom(3),
    ...extra,
  });
  pool.start();
  return pool;
}

/** Ejects `address` through passive health, then lets the ejection run out. */
function ejectAndReturn(pool: Pool, clock: FakeClock, address: string): void {
  const exclude = new Set([A, B, C].filter((a) => a !== address));
  pool.pick({ exclude }).done({ ok: false, kind: 'connect' });
  assert.equal(pool.status().nodes.find((n) => n.address === address)?.health, 'down');
  clock.advance(1_000);
}

const algorithms: BalancerAlgorithm[] = [
  'round_robin',
  'weighted_round_robin',
  'random',
  'least_connections',
];

for (const algorithm of algorithms) {
  test(`${algorithm}: a node back from ejection ramps from 5 % to its full share over slow_start_ms`, () => {
    const clock = new FakeClock();
    const pool = started({ clock, algorithm, slowStartMs: 10_000 });
    ejectAndReturn(pool, clock, B);
    near(shareOf(pool, B), rampShare(0.05), 'just back');
    clock.advance(5_000);
    near(shareOf(pool, B), rampShare(0.525), 'half way');
    clock.advance(5_000);
    near(shareOf(pool, B), 1 / 3, 'ramp over');
    assert.equal(pool.status().nodes[1]?.slowStart, undefined);
  });
}

test('without slow_start_ms a node back from ejection takes its full share at once', () => {
  const clock = new FakeClock();
  const pool = started({ clock, algorithm: 'weighted_round_robin' });
  ejectAndReturn(pool, clock, B);
  near(shareOf(pool, B), 1 / 3, 'just back');
  assert.equal(pool.status().nodes[1]?.slowStart, undefined);
});

test('nodes there when the pool first runs take full shares; a node added by a reload ramps', () => {
  const clock = new FakeClock();
  const options = { clock, algorithm: 'weighted_round_robin' as const, slowStartMs: 10_000 };
  const first = new Pool({ name: 'web', nodes: [node(A, 4), node(B, 4)], ...options });
  first.start();
  assert.deepEqual(
    first.status().nodes.map((n) => n.slowStart),
    [undefined, undefined],
  );
  near(shareOf(first, A), 0.5, 'first generation');
  const nodes = [node(A, 4), node(B, 4), node(C, 4)];
  const second = new Pool({ name: 'web', nodes, ...options, previous: first });
  second.start();
  first.close();
  const added = second.status().nodes[2]!;
  assert.deepEqual(added.slowStart, { weight: 0.2, endsAt: clock.now() + 10_000 });
  assert.equal(added.weight, 4);
  assert.equal(second.status().nodes[0]?.slowStart, undefined);
  near(shareOf(second, C), rampShare(0.05), 'added node');
  clock.advance(2_500);
  assert.equal(second.status().nodes[2]?.slowStart?.weight, 4 * (0.05 + 0.95 * 0.25));
  clock.advance(7_500);
  near(shareOf(second, C), 1 / 3, 'ramp over');
});

test("discovery's first answer takes full shares; a node discovered later ramps", () => {
  const clock = new FakeClock();
  const pool = new Pool({
    name: 'web',
    nodes: [],
    clock,
    algorithm: 'round_robin',
    discoveryRunsRemotely: true,
    slowStartMs: 10_000,
  });
  pool.start();
  pool.setDiscoveredNodes([A, B]);
  assert.deepEqual(
    pool.status().nodes.map((n) => n.slowStart),
    [undefined, undefined],
  );
  pool.setDiscoveredNodes([A, B, C]);
  assert.equal(pool.status().nodes[2]?.slowStart?.weight, 0.05);
  near(shareOf(pool, C), rampShare(0.05), 'discovered later');
});

test('a node a monitor brings back up after being down ramps', () => {
  const clock = new FakeClock();
  const pool = Pool.fromConfig(
    {
      name: 'web',
      nodes: [{ address: A }, { address: B }],
      monitors: ['hc'],
      slow_start_ms: 4_000,
    },
    {
      monitors: [{ name: 'hc', type: 'tcp', delay_ms: 1_000, failures: 1, successes: 1 }],
      monitorsRunRemotely: true,
      clock,
    },
  );
  pool.start();
  pool.recordCheck(A, 'hc', { ok: true, detail: 'ok' });
  pool.recordCheck(B, 'hc', { ok: true, detail: 'ok' });
  assert.equal(pool.status().nodes[1]?.slowStart, undefined, 'up from unknown is no comeback');
  pool.recordCheck(B, 'hc', { ok: false, detail: 'refused' });
  assert.equal(pool.status().nodes[1]?.health, 'down');
  clock.advance(1_000);
  pool.recordCheck(B, 'hc', { ok: true, detail: 'ok' });
  const back = pool.status().nodes[1]!;
  assert.equal(back.health, 'up');
  assert.deepEqual(back.slowStart, { weight: 0.05, endsAt: clock.now() + 4_000 });
});

test('slow_start_ms is 0 by default and bounded to 0..3 600 000 in configuration', () => {
  const base = { name: 'web', nodes: [{ address: A }] };
  assert.equal(poolSchema.parse(base).slow_start_ms, 0);
  assert.equal(poolSchema.parse({ ...base, slow_start_ms: 3_600_000 }).slow_start_ms, 3_600_000);
  for (const bad of [-1, 3_600_001, 1.5, '10s']) {
    assert.equal(poolSchema.safeParse({ ...base, slow_start_ms: bad }).success, false, `${bad}`);
  }
});
