import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { PosternError } from '../../core/index.js';
import type { DialRequest, DialResult } from '../../traffic/index.js';
import { ConnectHandler, type FrontendConnector } from './connect-handler.js';
import { FrontendMetrics } from './frontend-metrics.js';

const connector = (id: string, defaultRoute = true): FrontendConnector => ({
  connectorId: id,
  group: 'g',
  identifiers: { host: [], ipv4: [], ipv6: [], cidr: [], defaultRoute },
  activeSessions: 0,
  draining: false,
});

/** A handler on a loopback TCP server whose backend dials are settled by the test. */
async function setup(
  dial: (c: FrontendConnector, r: DialRequest) => Promise<DialResult>,
  connectors = [connector('a')],
  maxPendingDials = 1000,
) {
  const metrics = new FrontendMetrics(new Registry());
  const handler = new ConnectHandler({
    backend: { candidates: () => connectors, dial },
    strategies: ['defaultRoute'],
    metrics,
    logger: pino({ level: 'silent' }),
    maxPendingDials,
  });
  const server = net.createServer({ allowHalfOpen: true }, (s) => handler.handle(s, 'tcp'));
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const request = (target = 'db:5432'): net.Socket => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
    return s;
  };
  const answer = (s: net.Socket): Promise<string> =>
    new Promise((resolve) => {
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (text.includes('\r\n\r\n')) resolve(text);
      });
      s.on('close', () => resolve(text));
    });
  const close = async (): Promise<void> => {
    handler.destroyAll();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { metrics, handler, request, answer, close };
}

test('dials beyond maxPendingDials get 503 at once instead of piling up', async () => {
  const pending: (() => void)[] = [];
  const t = await setup(
    () =>
      new Promise((_, reject) =>
        pending.push(() => reject(new PosternError('POSTERN_ERR_DIAL_REFUSED', 'refused'))),
      ),
    [connector('a')],
    2,
  );
  const first = [t.request(), t.request()];
  for (let i = 0; i < 100 && pending.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(pending.length, 2);
  const third = t.request();
  assert.match(await t.answer(third), /^HTTP\/1\.1 503 .*overloaded/);
  for (const settle of pending) settle();
  for (const s of first) assert.match(await t.answer(s), /^HTTP\/1\.1 502 /);
  await t.close();
});

test('when the client leaves during the dial the upstream it produced is closed, not leaked', async () => {
  let settle: ((r: DialResult) => void) | undefined;
  const upstream = new PassThrough();
  const t = await setup(() => new Promise((resolve) => (settle = resolve)));
  try {
    const client = t.request();
    for (let i = 0; i < 100 && !settle; i++) await new Promise((r) => setTimeout(r, 10));
    client.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 50));
    settle?.({ socket: upstream, connectorId: 'a' });
    for (let i = 0; i < 200 && !upstream.destroyed; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(upstream.destroyed, true);
    for (let i = 0; i < 200 && t.handler.connections > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(t.handler.connections, 0);
    const open = await t.metrics.openTunnels.get();
    assert.ok(open.values.every((v) => v.value === 0));
  } finally {
    await t.close();
  }
});

test('a connector refusing the destination by its grant hands the request to the next one', async () => {
  const tried: string[] = [];
  const t = await setup(
    (c) => {
      tried.push(c.connectorId);
      return Promise.reject(new PosternError('POSTERN_ERR_DIAL_NOT_ALLOWED', 'not covered'));
    },
    [connector('a'), connector('b'), connector('c'), connector('d')],
  );
  assert.match(await t.answer(t.request()), /^HTTP\/1\.1 502 .*dial_not_allowed/);
  // Three tries at most, each on a different connector.
  assert.equal(tried.length, 3);
  assert.equal(new Set(tried).size, 3);
  await t.close();
});
