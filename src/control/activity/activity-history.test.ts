import test from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../../core/index.js';
import { openMemoryStore } from '../../store/index.js';
import type { ActivityRecord, ActivityRepository, Store } from '../../store/index.js';
import { sendError } from '../api-errors.js';
import { ActivityHistory } from './activity-history.js';
import { ActivityLog } from './activity-log.js';
import { registerActivityRoutes } from './activity-routes.js';
import { decisionInput as decision } from './test-kit.js';

const T0 = Date.UTC(2030, 0, 1);

/** A clock whose timers run only when the test says so. */
function manualClock() {
  let now = T0;
  const timers = new Map<TimerHandle, { at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    monotonic: () => now - T0,
    setTimeout: (fn, ms) => {
      const handle = {};
      timers.set(handle, { at: now + ms, fn });
      return handle;
    },
    clearTimeout: (handle) => void timers.delete(handle),
  };
  /** Moves time on and runs the timers due, in order. */
  const advance = (ms: number) => {
    now += ms;
    const due = [...timers].filter(([, t]) => t.at <= now).sort((a, b) => a[1].at - b[1].at);
    for (const [handle, t] of due) {
      timers.delete(handle);
      t.fn();
    }
  };
  return { clock, advance, timers };
}

/** The store's activity repository, with a switch that makes writes fail and a count of them. */
function flakyRepo(store: Store) {
  const state = { down: false, appends: 0, hang: false };
  const repo: ActivityRepository = {
    append: (records: readonly ActivityRecord[]) => {
      state.appends += 1;
      if (state.hang) return new Promise<void>(() => undefined);
      return state.down ? Promise.reject(new Error('store down')) : store.activity.append(records);
    },
    list: (filter) => store.activity.list(filter),
    prune: (prune) => store.activity.prune(prune),
  };
  return { repo, state };
}

async function setup(options: { batchSize?: number; maxPending?: number } = {}) {
  const time = manualClock();
  const store = await openMemoryStore({ clock: time.clock });
  const { repo, state } = flakyRepo(store);
  const registry = new Registry();
  const log = new ActivityLog({ clock: time.clock });
  const history = new ActivityHistory(repo, {
    serverId: 'edge-a',
    clock: time.clock,
    registry,
    ...options,
  });
  history.start(log);
  return { time, store, state, registry, log, history };
}

/** Lets promise callbacks (the store's async work) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets the store's async work run until `check` holds (at most 1000 turns). */
async function until(check: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !check(); turn++) await settle();
  assert.ok(check(), 'the condition did not hold in time');
}

test('entries are written in one batch when the flush interval passes, not one by one', async () => {
  const { time, store, state, log, history } = await setup();
  const before = state.appends;
  for (let n = 1; n <= 5; n++) log.record(decision(n));
  await settle();
  assert.equal(state.appends, before, 'nothing written before the interval');
  assert.equal(history.pending, 5);
  time.advance(250);
  await history.flush();
  assert.equal(state.appends, before + 1);
  const stored = await store.activity.list();
  assert.deepEqual(
    stored.map((r) => [r.sessionId, r.serverId]),
    [5, 4, 3, 2, 1].map((n) => [`s-${n}`, 'edge-a']),
  );
  await history.close();
  await store.close();
});

test('a full batch is written at once, without waiting for the interval', async () => {
  const { store, state, log, history } = await setup({ batchSize: 3 });
  const before = state.appends;
  for (let n = 1; n <= 3; n++) log.record(decision(n));
  await history.flush();
  assert.equal(state.appends, before + 1);
  assert.equal((await store.activity.list()).length, 3);
  await history.close();
  await store.close();
});

test('while the store is down recording never throws, the oldest beyond the bound are dropped and counted, and the rest are written once it is back', async () => {
  const { time, store, state, registry, log, history } = await setup({
    batchSize: 2,
    maxPending: 4,
  });
  state.down = true;
  for (let n = 1; n <= 10; n++) assert.doesNotThrow(() => log.record(decision(n)));
  await history.flush();
  assert.equal(history.pending, 4);
  const attempts = state.appends;
  for (let n = 11; n <= 12; n++) log.record(decision(n));
  await settle();
  assert.equal(state.appends, attempts, 'a failing store is not written on every record');
  assert.match(await registry.metrics(), /postern_activity_dropped_total 8/);
  state.down = false;
  time.advance(1000);
  await history.flush();
  assert.equal(history.pending, 0);
  assert.deepEqual(
    (await store.activity.list()).map((r) => r.sessionId),
    ['s-12', 's-11', 's-10', 's-9'],
  );
  assert.match(await registry.metrics(), /postern_activity_pending 0/);
  await history.close();
  await store.close();
});

test(
  'close writes what waits, and gives up after its timeout when the store hangs',
  { timeout: 10_000 },
  async () => {
    const { store, state, log, history } = await setup();
    log.record(decision(1));
    await history.close();
    assert.equal((await store.activity.list()).length, 1);
    log.record(decision(2));
    assert.equal(history.pending, 0, 'a closed history records nothing more');

    const hung = await setup();
    hung.state.hang = true;
    hung.log.record(decision(3));
    const closing = hung.history.close();
    await settle();
    hung.time.advance(5000);
    await closing;
    assert.equal(hung.state.appends, 1);
    assert.ok(state.appends > 0);
    await store.close();
    await hung.store.close();
  },
);

test('start and then every prune interval delete records beyond the retention count and age', async () => {
  const time = manualClock();
  const store = await openMemoryStore({ clock: time.clock });
  const seed = new ActivityHistory(store.activity, { serverId: 'old-edge', clock: time.clock });
  const seedLog = new ActivityLog({ clock: time.clock });
  seed.start(seedLog);
  seedLog.record({ ...decision(1), time: new Date(T0 - 40 * 86_400_000).toISOString() });
  for (let n = 2; n <= 6; n++) seedLog.record(decision(n));
  await seed.close();
  assert.equal((await store.activity.list()).length, 6);
  const history = new ActivityHistory(store.activity, {
    serverId: 'edge-a',
    clock: time.clock,
    retentionEntries: 3,
    retentionDays: 30,
  });
  const log = new ActivityLog({ clock: time.clock });
  history.start(log);
  // The first prune runs in the background; its timer for the next one is set when it is done.
  await until(() => time.timers.size === 1);
  assert.deepEqual(
    (await store.activity.list()).map((r) => r.sessionId),
    ['s-6', 's-5', 's-4'],
  );
  // Later than the others: records of one millisecond from different writers have no order.
  time.advance(1000);
  for (let n = 7; n <= 9; n++) log.record(decision(n));
  await history.flush();
  assert.equal((await store.activity.list()).length, 6);
  // The next prune comes after the prune interval (default 10 minutes).
  time.advance(600_000);
  await history.close();
  assert.deepEqual(
    (await store.activity.list()).map((r) => r.sessionId),
    ['s-9', 's-8', 's-7'],
  );
  await store.close();
});

test("GET /activity reads the store newest first with each entry's edge, pages by stored id, and refuses other tokens", async () => {
  const { store, log, history } = await setup();
  const other = new ActivityHistory(store.activity, { serverId: 'edge-b' });
  const otherLog = new ActivityLog();
  other.start(otherLog);
  otherLog.record({ ...decision(1), time: new Date(T0 - 2000).toISOString() });
  await other.close();
  for (let n = 2; n <= 3; n++) log.record(decision(n));
  const app = Fastify();
  app.setErrorHandler((err, _req, reply) => sendError(reply, err));
  app.register((api, _o, done) => (registerActivityRoutes(api, log), done()), {
    prefix: '/api/v1',
  });
  // Not flushed yet: a read writes this edge's waiting entries first.
  assert.equal(history.pending, 2);
  const first = await app.inject({ url: '/api/v1/activity?limit=2' });
  const body = first.json<{ items: Record<string, unknown>[]; next_page_token?: string }>();
  assert.equal(first.statusCode, 200);
  assert.deepEqual(
    body.items.map((i) => [i.session_id, i.edge, i.client_type]),
    [
      ['s-3', 'edge-a', 'tcp_client'],
      ['s-2', 'edge-a', 'tcp_client'],
    ],
  );
  assert.match(body.next_page_token ?? '', /^[0-9]{15}-[0-9a-f]{8}-[0-9]{10}$/);
  const next = await app.inject({
    url: `/api/v1/activity?limit=2&page_token=${body.next_page_token}`,
  });
  const last = next.json<{ items: Record<string, unknown>[]; next_page_token?: string }>();
  assert.deepEqual(
    last.items.map((i) => [i.session_id, i.edge]),
    [['s-1', 'edge-b']],
  );
  assert.equal(last.next_page_token, undefined);
  for (const token of ['abc', '17']) {
    const bad = await app.inject({ url: `/api/v1/activity?page_token=${token}` });
    assert.equal(bad.statusCode, 400);
  }
  await app.close();
  await history.close();
  await store.close();
});
