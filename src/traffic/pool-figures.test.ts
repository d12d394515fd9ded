import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../core/index.js';
import { Pool } from './pool.js';
import type { PickOutcome, PoolNode } from './pool-options.js';
import { responseBucketsSeconds } from './pool-node-figures.js';

const A = '10.0.0.1:80';
const B = '10.0.0.2:80';
const nodes = (...addresses: string[]): PoolNode[] =>
  addresses.map((address) => ({ address, weight: 1, state: 'active' }));

function pool(previous?: Pool, addresses = [A, B]): Pool {
  const p = new Pool({
    name: 'web',
    nodes: nodes(...addresses),
    clock: new FakeClock(),
    passiveHealth: false,
    previous,
  });
  p.start();
  return p;
}

/** Sends one request (or session) to `address` and ends it with `outcome`. */
function send(p: Pool, address: string, outcome: PickOutcome, request = true): void {
  const others = new Set([A, B].filter((a) => a !== address));
  const pick = p.pick({ exclude: others, request });
  assert.equal(pick.node.address, address);
  pick.done(outcome);
}

const statusOf = (p: Pool, address: string) => p.status().nodes.find((n) => n.address === address);

test('requests are counted per node by status class or failure, sessions apart', () => {
  const p = pool();
  send(p, A, { ok: true, status: 200, responseMs: 3 });
  send(p, A, { ok: true, status: 204, responseMs: 4 });
  send(p, A, { ok: true, status: 404, responseMs: 2 });
  send(p, A, { ok: false, kind: 'status_5xx', status: 503, responseMs: 40 });
  send(p, B, { ok: false, kind: 'connect', error: 'POSTERN_ERR_DIAL_REFUSED' });
  send(p, B, { ok: false, kind: 'reset' });
  send(p, B, { ok: false, kind: 'timeout' });
  send(p, B, { ok: false, error: 'POSTERN_ERR_NO_CONNECTOR' });
  send(p, B, { ok: true });
  send(p, B, { ok: true, responseMs: 1 }, false);
  send(p, B, { ok: false, kind: 'connect' }, false);
  assert.deepEqual(statusOf(p, A)?.requests, { '2xx': 2, '4xx': 1, '5xx': 1 });
  assert.equal(statusOf(p, A)?.sessions, 0);
  assert.deepEqual(statusOf(p, B)?.requests, {
    connect: 1,
    reset: 1,
    timeout: 1,
    failed: 1,
    aborted: 1,
  });
  assert.equal(statusOf(p, B)?.sessions, 2);
});

test('response times go into a per-node histogram and the last response time', () => {
  const p = pool();
  for (const ms of [0.5, 3, 3, 70, 20_000]) send(p, A, { ok: true, status: 200, responseMs: ms });
  const a = statusOf(p, A)!;
  assert.equal(a.lastResponseMs, 20_000);
  const times = a.responseTimes;
  assert.equal(times.count, 5);
  assert.ok(Math.abs(times.sumSeconds - 20.0765) < 1e-9, String(times.sumSeconds));
  assert.equal(times.buckets.length, responseBucketsSeconds.length + 1);
  const at = (le: number) => times.buckets[responseBucketsSeconds.indexOf(le)];
  assert.deepEqual([at(0.001), at(0.005), at(0.1)], [1, 2, 1]);
  assert.equal(times.buckets.at(-1), 1, 'above the last bound');
  assert.equal(statusOf(p, B)?.responseTimes.count, 0);
});

test('the counts carry over a reload by pool and node name; a removed node takes its counts away', () => {
  const first = pool();
  send(first, A, { ok: true, status: 200, responseMs: 3 });
  send(first, B, { ok: true, status: 302, responseMs: 3 });
  const second = pool(first);
  first.close();
  send(second, A, { ok: true, status: 200, responseMs: 3 });
  assert.deepEqual(statusOf(second, A)?.requests, { '2xx': 2 });
  assert.equal(statusOf(second, A)?.responseTimes.count, 2);
  const third = pool(second, [A]);
  second.close();
  assert.equal(statusOf(third, B), undefined);
  const fourth = pool(third, [A, B]);
  third.close();
  assert.deepEqual(statusOf(fourth, B)?.requests, {}, 'back as a new node, from zero');
});

test('an in-flight request keeps its node counted as active until it ends', () => {
  const p = pool();
  const pick = p.pick({ exclude: new Set([B]), request: true });
  assert.equal(statusOf(p, A)?.activeConnections, 1);
  pick.done({ ok: true, status: 200, responseMs: 1 });
  assert.equal(statusOf(p, A)?.activeConnections, 0);
});
