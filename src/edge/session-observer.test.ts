import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { HttpRequestRecord, RequestEnd } from '../traffic/index.js';
import { ConnectorRegistry } from './connector-registry.js';
import { EdgeMetrics } from './edge-metrics.js';
import { logPoolEvent, sessionObserver } from './session-observer.js';

/** Log lines written by a pino logger, parsed. */
function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level },
    { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) },
  );
  return { log, lines };
}

test('a pool that does not verify its nodes is a warning; other pool news is info', () => {
  const { log, lines } = capture();
  logPoolEvent(log, {
    type: 'tls_unverified',
    pool: 'api',
    warning: 'pool api does not verify its nodes',
  });
  logPoolEvent(log, { type: 'discovery_skipped', pool: 'api', skipped: ['a3.test: no address'] });
  assert.equal(lines[0]?.['level'], 40);
  assert.equal(lines[0]?.['msg'], 'pool api does not verify its nodes');
  assert.equal(lines[0]?.['pool'], 'api');
  assert.equal(lines[1]?.['level'], 30);
});

/** An ended request whose record counts how often it was asked for. */
function ended(status: number) {
  const record = { requestId: 'r1', virtualServer: 'web', status, path: '/a' };
  const end = {
    virtualServer: 'web',
    status,
    bytesIn: 3,
    bytesOut: 10,
    closeReason: 'closed',
    asked: 0,
    record() {
      end.asked++;
      return record as unknown as HttpRequestRecord;
    },
  };
  return end satisfies RequestEnd;
}

async function requestCount(metrics: EdgeMetrics, status: string): Promise<number | undefined> {
  const m = await metrics.requests.get();
  return m.values.find((v) => v.labels.status === status)?.value;
}

test('an ended request is counted; its record is built and logged only when info is logged', async () => {
  const quiet = capture('warn');
  const quietMetrics = new EdgeMetrics(new ConnectorRegistry());
  const counted = ended(200);
  sessionObserver(quiet.log, quietMetrics).onHttpRequest(counted);
  assert.equal(await requestCount(quietMetrics, '200'), 1);
  assert.equal(counted.asked, 0, 'no record built for nobody');
  assert.equal(quiet.lines.length, 0);

  const loud = capture('info');
  const loudMetrics = new EdgeMetrics(new ConnectorRegistry());
  const logged = ended(404);
  sessionObserver(loud.log, loudMetrics).onHttpRequest(logged);
  assert.equal(await requestCount(loudMetrics, '404'), 1);
  assert.equal(logged.asked, 1);
  assert.equal(loud.lines[0]?.['msg'], 'request ended');
  assert.deepEqual(loud.lines[0]?.['request'], {
    requestId: 'r1',
    virtualServer: 'web',
    status: 404,
    path: '/a',
  });
});
