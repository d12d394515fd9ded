import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import Fastify from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { EMBEDDED_DB_FILE, openEmbeddedStore, type ActivityRepository } from '../../store/index.js';
import { sendError } from '../api-errors.js';
import { storeFailureReason } from './activity-fallback.js';
import { ActivityHistory } from './activity-history.js';
import { ActivityLog } from './activity-log.js';
import { registerActivityRoutes } from './activity-routes.js';
import { decisionInput as decision } from './test-kit.js';

interface Body {
  partial?: boolean;
  warning?: string;
  items: { session_id: string; edge?: string }[];
  next_page_token?: string;
  error?: { code: string; message: string };
}

/**
 * A real embedded (SQLite file) store whose activity table a second connection can take away
 * and put back: the store's own reads and writes then fail with SQLite's real error.
 */
async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'postern-activity-fallback-'));
  const store = await openEmbeddedStore({ dataDir: dir });
  const other = new SQLite(join(dir, EMBEDDED_DB_FILE));
  other.pragma('busy_timeout = 5000');
  const lines: { level: number; msg: string; reason?: string }[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) },
  );
  const registry = new Registry();
  const log = new ActivityLog();
  // Counts write attempts, so a test can tell whether a read waited for one.
  const appends = { count: 0 };
  const repo: ActivityRepository = {
    list: (o) => store.activity.list(o),
    prune: (o) => store.activity.prune(o),
    append: (records) => (appends.count++, store.activity.append(records)),
  };
  const history = new ActivityHistory(repo, { serverId: 'edge-a', registry, logger });
  history.start(log);
  const app = Fastify();
  app.setErrorHandler((err, _req, reply) => sendError(reply, err));
  await app.register((api, _o, done) => (registerActivityRoutes(api, log), done()), {
    prefix: '/api/v1',
  });
  const get = async (query: string) => {
    const res = await app.inject({ url: `/api/v1/activity${query}` });
    return { status: res.statusCode, body: res.json<Body>() };
  };
  const failures = async () => {
    const text = await registry.metrics();
    const value = /^postern_activity_store_read_failures_total (\d+)$/m.exec(text)?.[1];
    assert.ok(value !== undefined, 'the read failure counter is registered');
    return Number(value);
  };
  const readWarnings = () =>
    lines.filter((l) => l.level === 40 && /activity store read failed/.test(l.msg)).length;
  return {
    store,
    log,
    history,
    appends,
    lines,
    get,
    failures,
    readWarnings,
    storeDown: () => other.exec('ALTER TABLE user_activity RENAME TO user_activity_away'),
    storeBack: () => other.exec('ALTER TABLE user_activity_away RENAME TO user_activity'),
    async close() {
      await app.close();
      await history.close();
      await store.close();
      other.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test("while the store cannot be read GET /activity answers 200 with this edge's records from memory, marked partial, paged by local tokens, counted and warned once", async () => {
  const t = await setup();
  try {
    const otherEdge = new ActivityHistory(t.store.activity, { serverId: 'edge-b' });
    const otherLog = new ActivityLog();
    otherEdge.start(otherLog);
    otherLog.record(decision('b-1'));
    await otherEdge.close();
    for (let n = 1; n <= 5; n++) t.log.record(decision(`a-${n}`));
    const healthy = await t.get('?limit=1000');
    assert.equal(healthy.status, 200);
    assert.equal(healthy.body.partial, undefined);
    assert.equal(healthy.body.warning, undefined);
    assert.deepEqual(healthy.body.items.map((i) => i.session_id).sort(), [
      'a-1',
      'a-2',
      'a-3',
      'a-4',
      'a-5',
      'b-1',
    ]);
    const storeToken = (await t.get('?limit=2')).body.next_page_token;
    assert.ok(storeToken, 'the store issued a page token');
    assert.equal(await t.failures(), 0);

    t.storeDown();
    for (let n = 6; n <= 7; n++) t.log.record(decision(`a-${n}`));
    const first = await t.get('?limit=3');
    assert.equal(first.status, 200);
    assert.equal(first.body.partial, true);
    assert.equal(
      first.body.warning,
      'the shared store could not be read (no such table: user_activity); ' +
        "showing only this edge's 7 most recent records from memory",
    );
    assert.deepEqual(
      first.body.items.map((i) => [i.session_id, i.edge]),
      [
        ['a-7', 'edge-a'],
        ['a-6', 'edge-a'],
        ['a-5', 'edge-a'],
      ],
    );
    const token = first.body.next_page_token ?? '';
    assert.match(token, /^local-[0-9a-f]{8}-[0-9]+$/);
    const second = await t.get(`?limit=3&page_token=${token}`);
    assert.equal(second.status, 200);
    assert.equal(second.body.partial, true);
    assert.deepEqual(
      second.body.items.map((i) => i.session_id),
      ['a-4', 'a-3', 'a-2'],
    );
    const last = await t.get(`?limit=3&page_token=${second.body.next_page_token ?? ''}`);
    assert.deepEqual(
      last.body.items.map((i) => [i.session_id, i.edge]),
      [['a-1', 'edge-a']],
    );
    assert.equal(last.body.next_page_token, undefined);
    assert.equal(await t.failures(), 3);
    assert.equal(t.readWarnings(), 1, 'one warning for the whole streak of failed reads');
    assert.ok(
      t.lines.some((l) => l.reason === 'no such table: user_activity'),
      'the warning says why',
    );

    const stale = await t.get(`?page_token=${storeToken}`);
    assert.equal(stale.status, 400);
    assert.equal(stale.body.error?.code, 'POSTERN_ERR_BAD_REQUEST');
    assert.match(
      stale.body.error?.message ?? '',
      /cannot be read now.*start again without page_token/,
    );
    const foreign = await t.get(
      `?page_token=${token.replace(/^local-[0-9a-f]{8}/, 'local-00000000')}`,
    );
    assert.equal(foreign.status, 400);
    assert.match(foreign.body.error?.message ?? '', /another edge or of an earlier run/);
  } finally {
    await t.close();
  }
});

test('once the store is back GET /activity reads it again, with the records written meanwhile, and refuses local tokens', async () => {
  const t = await setup();
  try {
    t.log.record(decision('a-1'));
    t.storeDown();
    t.log.record(decision('a-2'));
    t.log.record(decision('a-3'));
    const partial = await t.get('?limit=1');
    assert.equal(partial.body.partial, true);
    assert.ok(t.history.pending >= 2, 'the entries wait for the store');
    const localToken = partial.body.next_page_token ?? '';
    assert.match(localToken, /^local-/);

    t.storeBack();
    const back = await t.get('?limit=1000');
    assert.equal(back.status, 200);
    assert.equal(back.body.partial, undefined);
    assert.equal(back.body.warning, undefined);
    assert.deepEqual(
      back.body.items.map((i) => [i.session_id, i.edge]),
      [
        ['a-3', 'edge-a'],
        ['a-2', 'edge-a'],
        ['a-1', 'edge-a'],
      ],
    );
    assert.equal(t.history.pending, 0);
    assert.deepEqual(
      (await t.store.activity.list()).map((r) => r.sessionId),
      ['a-3', 'a-2', 'a-1'],
    );
    assert.ok(t.lines.some((l) => l.msg === 'activity store reads are back'));
    const refused = await t.get(`?page_token=${localToken}`);
    assert.equal(refused.status, 400);
    assert.match(
      refused.body.error?.message ?? '',
      /readable again, so start again without page_token/,
    );
    const failed = await t.failures();

    // A new streak of failures warns again.
    t.storeDown();
    assert.equal((await t.get('')).body.partial, true);
    assert.equal(t.readWarnings(), 2);
    assert.equal(await t.failures(), failed + 1);
  } finally {
    await t.close();
  }
});

test('while writes fail a read answers from memory without another write attempt first, and writes once a read gets through', async () => {
  const t = await setup();
  try {
    t.storeDown();
    t.log.record(decision('a-1'));
    await t.history.flush();
    const attempts = t.appends.count;
    assert.ok(attempts >= 1, 'the write was attempted and failed');
    const partial = await t.get('');
    assert.equal(partial.status, 200);
    assert.equal(partial.body.partial, true);
    assert.equal(t.appends.count, attempts, 'the read did not wait for a write');
    t.storeBack();
    const whole = await t.get('');
    assert.equal(whole.body.partial, undefined);
    assert.deepEqual(
      whole.body.items.map((i) => i.session_id),
      ['a-1'],
      'the record waiting to be written is listed once the store is back',
    );
    assert.equal(t.history.pending, 0);
  } finally {
    await t.close();
  }
});

test('a failed read of a history that was never started still fails, and is counted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postern-activity-fallback-'));
  const store = await openEmbeddedStore({ dataDir: dir });
  const registry = new Registry();
  const history = new ActivityHistory(store.activity, { serverId: 'edge-a', registry });
  const other = new SQLite(join(dir, EMBEDDED_DB_FILE));
  try {
    other.exec('ALTER TABLE user_activity RENAME TO user_activity_away');
    await assert.rejects(history.page({}), /no such table: user_activity/);
    assert.match(await registry.metrics(), /postern_activity_store_read_failures_total 1/);
  } finally {
    await history.close();
    await store.close();
    other.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the store failure reason is one short line without the password of a connection URL', () => {
  const reason = storeFailureReason(
    new Error('could not reach postgres://postern:hunter2@db.internal:5432/postern\n    at x'),
  );
  assert.equal(reason, 'could not reach postgres://postern:***@db.internal:5432/postern');
  assert.equal(storeFailureReason(new Error('x'.repeat(500))).length, 200);
  assert.equal(storeFailureReason('plain'), 'plain');
});
