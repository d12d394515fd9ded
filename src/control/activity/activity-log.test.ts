import test from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { ActivityLog } from './activity-log.js';
import { registerActivityRoutes } from './activity-routes.js';
import { sendError } from '../api-errors.js';
import { decisionInput as decision } from './test-kit.js';

test('pages run newest first and a page token continues exactly where the last page ended', () => {
  const log = new ActivityLog({ capacity: 100 });
  for (let n = 1; n <= 7; n++) log.record(decision(n));
  const first = log.page({ limit: 3 });
  assert.deepEqual(
    first.items.map((e) => e.sessionId),
    ['s-7', 's-6', 's-5'],
  );
  const second = log.page({ limit: 3, pageToken: first.nextPageToken! });
  assert.deepEqual(
    second.items.map((e) => e.sessionId),
    ['s-4', 's-3', 's-2'],
  );
  const last = log.page({ limit: 3, pageToken: second.nextPageToken! });
  assert.deepEqual(
    last.items.map((e) => e.sessionId),
    ['s-1'],
  );
  assert.equal(last.nextPageToken, undefined);
});

test('the ring keeps only the newest records up to its capacity', () => {
  const log = new ActivityLog({ capacity: 4 });
  for (let n = 1; n <= 10; n++) log.record(decision(n));
  assert.equal(log.size, 4);
  const page = log.page({ limit: 100 });
  assert.deepEqual(
    page.items.map((e) => e.sessionId),
    ['s-10', 's-9', 's-8', 's-7'],
  );
  assert.equal(page.nextPageToken, undefined);
});

test('subscribers get every record, a failing one does not stop the others, and unsubscribing works', () => {
  const log = new ActivityLog();
  const seen: string[] = [];
  log.onRecord(() => {
    throw new Error('broken subscriber');
  });
  const stop = log.onRecord((e) => seen.push(e.sessionId));
  log.record(decision(1));
  stop();
  log.record(decision(2));
  assert.deepEqual(seen, ['s-1']);
});

test('decisions are counted by action and client type; session ends are not', async () => {
  const registry = new Registry();
  const log = new ActivityLog({ registry });
  log.record(decision(1, 'allow'));
  log.record(decision(2, 'deny'));
  log.record(decision(3, 'deny'));
  log.record({ ...decision(1), kind: 'session_end', bytesFromClient: 5, bytesToClient: 5 });
  const text = await registry.metrics();
  assert.match(text, /postern_access_decisions_total\{action="allow",client_type="tcp_client"\} 1/);
  assert.match(text, /postern_access_decisions_total\{action="deny",client_type="tcp_client"\} 2/);
});

test('GET /activity pages with limit and page_token in snake_case, and refuses a bad token', async () => {
  const log = new ActivityLog();
  for (let n = 1; n <= 3; n++) log.record(decision(n));
  log.record({ ...decision(3), kind: 'session_end', bytesFromClient: 10, bytesToClient: 20 });
  const app = Fastify();
  app.setErrorHandler((err, _req, reply) => sendError(reply, err));
  app.register((api, _o, done) => (registerActivityRoutes(api, log), done()), {
    prefix: '/api/v1',
  });
  const first = await app.inject({ url: '/api/v1/activity?limit=2' });
  const body = first.json<{ items: Record<string, unknown>[]; next_page_token?: string }>();
  assert.equal(first.statusCode, 200);
  assert.deepEqual(
    body.items.map((i) => [i.kind, i.session_id]),
    [
      ['session_end', 's-3'],
      ['decision', 's-3'],
    ],
  );
  assert.equal(body.items[0]?.bytes_to_client, 20);
  assert.equal(body.items[0]?.client_type, 'tcp_client');
  const next = await app.inject({
    url: `/api/v1/activity?limit=2&page_token=${body.next_page_token}`,
  });
  assert.deepEqual(
    next.json<{ items: { session_id: string }[] }>().items.map((i) => i.session_id),
    ['s-2', 's-1'],
  );
  const bad = await app.inject({ url: '/api/v1/activity?page_token=abc' });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json<{ error: { code: string } }>().error.code, 'POSTERN_ERR_BAD_REQUEST');
  await app.close();
});
