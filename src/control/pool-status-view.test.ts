import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../core/index.js';
import { Pool, type PoolStatus } from '../traffic/index.js';
import { poolStatusView, poolStatusViewSchema, type PoolStatusView } from './pool-status-view.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A real pool whose one node failed once with passive health ejecting at the first failure. */
function failedPool(clock: FakeClock): Pool {
  const pool = new Pool({
    name: 'web',
    nodes: [{ address: '127.0.0.1:1', weight: 1, state: 'active' }],
    passiveHealth: { failures: 1, on5xx: false, ejectMs: 30_000 },
    clock,
  });
  pool.pick().done({ ok: false, kind: 'connect', error: 'POSTERN_ERR_DIAL_REFUSED' });
  return pool;
}

test('node times of a real pool become ISO 8601 strings of the same instants', () => {
  const clock = new FakeClock(Date.UTC(2030, 0, 2, 3, 4, 5, 678));
  const status = failedPool(clock).status();
  const node = status.nodes[0];
  assert.equal(typeof node?.lastErrorAt, 'number', 'the traffic layer keeps epoch ms');
  const view = poolStatusView(status).nodes[0];
  assert.equal(view?.lastErrorAt, '2030-01-02T03:04:05.678Z');
  assert.equal(view?.ejectedUntil, '2030-01-02T03:04:35.678Z');
  assert.equal(view?.lastError, 'POSTERN_ERR_DIAL_REFUSED');
});

test('absent times stay absent in JSON, and the JSON is what the published schema describes', () => {
  const clock = new FakeClock(Date.UTC(2030, 0, 2));
  const pool = new Pool({
    name: 'idle',
    nodes: [{ address: '127.0.0.1:2', weight: 1, state: 'active' }],
    clock,
  });
  const json = JSON.parse(JSON.stringify(poolStatusView(pool.status()))) as {
    nodes: Record<string, unknown>[];
  };
  assert.equal('lastErrorAt' in json.nodes[0]!, false);
  assert.equal('ejectedUntil' in json.nodes[0]!, false);
  poolStatusViewSchema.parse(json);
  const failed = JSON.parse(JSON.stringify(poolStatusView(failedPool(clock).status()))) as unknown;
  poolStatusViewSchema.parse(failed);
});

test('monitor and discovery times are converted, and extra discovery fields are kept', () => {
  const at = Date.UTC(2031, 5, 6, 7, 8, 9, 10);
  const status: PoolStatus = {
    name: 'disc',
    via: 'dc1',
    algorithm: 'round_robin',
    panicMode: 'all',
    panic: false,
    down: false,
    available: 1,
    priorityNodes: undefined,
    nodes: [
      {
        address: '10.0.0.1:80',
        state: 'active',
        source: 'discovery',
        removed: false,
        health: 'up',
        monitors: [
          {
            name: 'hc',
            health: 'up',
            lastError: undefined,
            lastFailure: 'refused',
            lastFailureAt: at - 2000,
            lastCheckAt: at,
            checks: 3,
          },
        ],
        ejectedUntil: undefined,
        activeConnections: 0,
        picks: 0,
        failures: 0,
        consecutiveFailures: 0,
        lastError: undefined,
        lastErrorAt: undefined,
        avgResponseMs: undefined,
        lastResponseMs: undefined,
        requests: {},
        sessions: 0,
        weight: 1,
        priority: 1,
        inUse: undefined,
        maxConnections: 0,
        slowStart: undefined,
        responseTimes: { buckets: [], sumSeconds: 0, count: 0 },
      },
    ],
    discovery: {
      name: 'app.internal',
      type: 'A',
      nodes: 1,
      lastSuccessAt: at,
      lastError: undefined,
      lastErrorAt: at - 1000,
      nextRefreshAt: at + 5000,
      ...{ runsOn: 'connector', reportedBy: 'conn-1' },
    },
    persistence: undefined,
    persistenceEntries: undefined,
    queued: 0,
    queueTimeouts: 0,
  };
  const view = poolStatusView(status);
  assert.equal(view.nodes[0]?.monitors[0]?.lastCheckAt, '2031-06-06T07:08:09.010Z');
  assert.equal(view.nodes[0]?.monitors[0]?.lastFailureAt, '2031-06-06T07:08:07.010Z');
  assert.deepEqual(
    [view.discovery?.lastSuccessAt, view.discovery?.lastErrorAt, view.discovery?.nextRefreshAt],
    ['2031-06-06T07:08:09.010Z', '2031-06-06T07:08:08.010Z', '2031-06-06T07:08:14.010Z'],
  );
  assert.equal(view.discovery?.runsOn, 'connector');
  assert.equal(view.discovery?.reportedBy, 'conn-1');
  for (const value of [view.discovery?.lastSuccessAt, view.nodes[0]?.monitors[0]?.lastCheckAt])
    assert.match(String(value), ISO);
  poolStatusViewSchema.parse(JSON.parse(JSON.stringify(view)));
});

test('the published schema refuses epoch milliseconds where a time belongs', () => {
  const clock = new FakeClock(Date.UTC(2030, 0, 2));
  const raw = JSON.parse(JSON.stringify(failedPool(clock).status())) as unknown;
  assert.throws(() => poolStatusViewSchema.parse(raw));
});

test("a node's requests, sessions, response times and slow start are shown; the histogram is not", () => {
  const clock = new FakeClock(Date.UTC(2030, 0, 2));
  const options = { name: 'web', clock, slowStartMs: 60_000 } as const;
  const a = { address: '10.0.0.1:80', weight: 3, state: 'active' } as const;
  const b = { address: '10.0.0.2:80', weight: 2, state: 'active' } as const;
  const first = new Pool({ ...options, nodes: [a] });
  first.start();
  first.pick({ request: true }).done({ ok: true, status: 200, responseMs: 12.34 });
  first.pick({ request: true }).done({ ok: false, kind: 'status_5xx', status: 502 });
  first.pick().done({ ok: true, responseMs: 2 });
  const pool = new Pool({ ...options, nodes: [a, b], previous: first });
  pool.start();
  const json = JSON.parse(JSON.stringify(poolStatusView(pool.status()))) as PoolStatusView;
  poolStatusViewSchema.parse(json);
  const [one, two] = json.nodes;
  assert.deepEqual(one?.requests, { '2xx': 1, '5xx': 1 });
  assert.equal(one?.sessions, 1);
  assert.equal(one?.lastResponseMs, 2);
  assert.equal(one?.weight, 3);
  assert.equal(one?.slowStart, undefined);
  assert.equal('responseTimes' in (one ?? {}), false);
  assert.deepEqual(two?.slowStart, { weight: 0.1, endsAt: '2030-01-02T00:01:00.000Z' });
});
