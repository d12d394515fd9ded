import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock, isPosternError } from '../core/index.js';
import { Pool, type PoolConstructorOptions } from './pool.js';
import type { PoolNode, PoolPick } from './pool-options.js';

const A = '10.0.0.1:80';
const B = '10.0.0.2:80';

function limited(extra: Partial<PoolConstructorOptions> = {}, nodes?: PoolNode[]) {
  const clock = new FakeClock();
  const pool = new Pool({
    name: 'web',
    nodes: nodes ?? [
      { address: A, weight: 1, state: 'active' },
      { address: B, weight: 1, state: 'active' },
    ],
    nodeMaxConnections: 1,
    queueTimeoutMs: 5_000,
    passiveHealth: false,
    clock,
    ...extra,
  });
  pool.start();
  return { pool, clock };
}

/** Lets promise callbacks run (the queue settles waiters synchronously; awaits see it next). */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Records how each wait ended, without awaiting it. */
function track(wait: Promise<PoolPick>) {
  const state: { pick?: PoolPick; error?: unknown } = {};
  wait.then(
    (pick) => (state.pick = pick),
    (error: unknown) => (state.error = error),
  );
  return state;
}

const codeOf = (err: unknown) => (isPosternError(err) ? err.code : String(err));

test('a node at its limit is not picked; when all are, pick() throws POSTERN_ERR_POOL_FULL', () => {
  const { pool } = limited({ queueTimeoutMs: 0 });
  const first = pool.pick();
  const second = pool.pick();
  assert.notEqual(first.node.address, second.node.address, 'the node at its limit is skipped');
  assert.throws(() => pool.pick(), { code: 'POSTERN_ERR_POOL_FULL', message: /no queue/ });
  first.done({ ok: true });
  assert.equal(pool.pick().node.address, first.node.address, 'the freed slot is usable again');
  assert.equal(pool.status().nodes[0]?.maxConnections, 1);
});

test("a node's own max_connections overrides the pool's limit", () => {
  const { pool } = limited({ queueTimeoutMs: 0 }, [
    { address: A, weight: 1, state: 'active', maxConnections: 2 },
    { address: B, weight: 1, state: 'disabled' },
  ]);
  pool.pick();
  pool.pick();
  assert.throws(() => pool.pick(), { code: 'POSTERN_ERR_POOL_FULL' });
  assert.deepEqual(
    pool.status().nodes.map((n) => n.maxConnections),
    [2, 1],
  );
});

test('waiters get freed slots in FIFO order, and new picks queue behind them', async () => {
  const { pool } = limited();
  const held = [pool.pick(), pool.pick()];
  const waits = [1, 2, 3].map(() => track(pool.waitForSlot({})));
  assert.equal(pool.status().queued, 3);
  // The freed slot goes to the oldest waiter at once: a fresh pick finds no room.
  held[0]!.done({ ok: true });
  assert.throws(() => pool.pick(), { code: 'POSTERN_ERR_POOL_FULL' });
  await settled();
  assert.ok(waits[0]!.pick, 'the oldest waiter got the slot');
  assert.equal(waits[1]!.pick, undefined);
  assert.equal(waits[0]!.pick.node.address, held[0]!.node.address);
  held[1]!.done({ ok: true });
  await settled();
  assert.ok(waits[1]!.pick, 'then the next oldest');
  assert.equal(waits[2]!.pick, undefined);
  waits[0]!.pick.done({ ok: true });
  await settled();
  assert.ok(waits[2]!.pick);
  assert.equal(pool.status().queued, 0);
  const active = pool.status().nodes.reduce((sum, n) => sum + n.activeConnections, 0);
  assert.equal(active, 2, 'never more picks in progress than the limits allow');
});

test('a wait ends after queueTimeoutMs with POSTERN_ERR_POOL_QUEUE_TIMEOUT and is counted', async () => {
  const { pool, clock } = limited();
  pool.pick();
  pool.pick();
  const wait = track(pool.waitForSlot({}));
  clock.advance(4_999);
  await settled();
  assert.equal(wait.error, undefined);
  clock.advance(1);
  await settled();
  assert.equal(codeOf(wait.error), 'POSTERN_ERR_POOL_QUEUE_TIMEOUT');
  assert.equal(pool.status().queued, 0);
  assert.equal(pool.status().queueTimeouts, 1);
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('a full queue refuses at once with POSTERN_ERR_POOL_FULL', async () => {
  const { pool } = limited({ queueMax: 2 });
  pool.pick();
  pool.pick();
  track(pool.waitForSlot({}));
  track(pool.waitForSlot({}));
  const third = track(pool.waitForSlot({}));
  await settled();
  assert.equal(codeOf(third.error), 'POSTERN_ERR_POOL_FULL');
  assert.match((third.error as Error).message, /holds 2 waiting/);
  assert.equal(pool.status().queued, 2);
});

test('an aborted wait leaves the queue: the freed slot goes to the next waiter, none leaks', async () => {
  const { pool, clock } = limited();
  const held = [pool.pick(), pool.pick()];
  const abort = new AbortController();
  const gone = track(pool.waitForSlot({}, { signal: abort.signal }));
  const next = track(pool.waitForSlot({}));
  abort.abort(new Error('client left'));
  await settled();
  assert.equal((gone.error as Error).message, 'client left');
  assert.equal(pool.status().queued, 1);
  held[0]!.done({ ok: true });
  await settled();
  assert.ok(next.pick, 'the slot went to the waiter still there');
  assert.equal(clock.pending, 0);
  next.pick.done({ ok: true });
  held[1]!.done({ ok: true });
  const active = pool.status().nodes.reduce((sum, n) => sum + n.activeConnections, 0);
  assert.equal(active, 0, 'every slot came back');
});

test('a client pinned to a node at its limit falls back to another node', () => {
  const { pool } = limited({
    queueTimeoutMs: 0,
    persistence: { type: 'source_ip', ttlMs: 60_000 },
  });
  const pinned = pool.pick({ clientIp: '192.0.2.1' });
  const again = pool.pick({ clientIp: '192.0.2.1' });
  assert.notEqual(again.node.address, pinned.node.address);
  pinned.done({ ok: true });
  again.done({ ok: true });
  // Re-pinned to the node it fell back to, as for a down node.
  assert.equal(pool.pick({ clientIp: '192.0.2.1' }).node.address, again.node.address);
});

test('nothing is queued when no node is usable: the existing answer stays', async () => {
  const { pool } = limited({}, [{ address: A, weight: 1, state: 'disabled' }]);
  assert.throws(() => pool.pick(), { code: 'POSTERN_ERR_POOL_EMPTY' });
  const wait = track(pool.waitForSlot({}));
  await settled();
  assert.equal(codeOf(wait.error), 'POSTERN_ERR_POOL_EMPTY');
  assert.equal(pool.status().queued, 0);
});

test('without limits, pick() is unchanged and never throws POSTERN_ERR_POOL_FULL', () => {
  const { pool } = limited({ nodeMaxConnections: 0 });
  const picks = Array.from({ length: 10 }, () => pool.pick());
  assert.equal(picks.length, 10);
  assert.equal(pool.status().nodes[0]?.maxConnections, 0);
});

test('a waiter that cannot use the free node does not hold up the next one', async () => {
  const { pool } = limited();
  const held = [pool.pick(), pool.pick()];
  const onA = held.find((p) => p.node.address === A)!;
  const notA = track(pool.waitForSlot({ exclude: new Set([A]) }));
  const any = track(pool.waitForSlot({}));
  onA.done({ ok: true });
  await settled();
  assert.equal(notA.pick, undefined, 'A is excluded for the first waiter');
  assert.equal(any.pick?.node.address, A, 'the next waiter got A');
  assert.equal(pool.status().queued, 1);
});

test('a slot freed by a pick of the replaced generation wakes a waiter of the new one', async () => {
  const { pool: old, clock } = limited();
  const held = [old.pick(), old.pick()];
  const next = new Pool({
    name: 'web',
    nodes: [
      { address: A, weight: 1, state: 'active' },
      { address: B, weight: 1, state: 'active' },
    ],
    nodeMaxConnections: 1,
    queueTimeoutMs: 5_000,
    passiveHealth: false,
    clock,
    previous: old,
  });
  next.start();
  old.close();
  assert.throws(
    () => next.pick(),
    { code: 'POSTERN_ERR_POOL_FULL' },
    'in-flight counts carry over',
  );
  const wait = track(next.waitForSlot({}));
  held[1]!.done({ ok: true });
  await settled();
  assert.equal(wait.pick?.node.address, held[1]!.node.address);
});

test('a reload that raises the limit hands the new slots to waiters at once', async () => {
  const { pool: old, clock } = limited({}, [{ address: A, weight: 1, state: 'active' }]);
  old.pick();
  const wait = track(old.waitForSlot({}));
  const next = new Pool({
    name: 'web',
    nodes: [{ address: A, weight: 1, state: 'active', maxConnections: 2 }],
    nodeMaxConnections: 1,
    queueTimeoutMs: 5_000,
    clock,
    previous: old,
  });
  next.start();
  await settled();
  assert.equal(wait.pick?.node.address, A);
  assert.equal(next.status().nodes[0]?.activeConnections, 2);
});
