import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import type { Clock } from '../core/index.js';
import { mergeDocuments, parseDocument, validateConfiguration } from '../config/index.js';
import { DirectDialer, Pool } from '../traffic/index.js';
import { ConnectorRegistry } from './connector-registry.js';
import { connectionRefusals, REFUSAL_WARNING_INTERVAL_MS } from './connection-refusals.js';
import { EdgeMetrics } from './edge-metrics.js';
import { sessionObserver } from './session-observer.js';
import { VirtualServerSet } from './virtual-server-set.js';

/** A clock whose monotonic time only moves when the test says so. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1_000;
  return {
    now: () => now,
    monotonic: () => now,
    setTimeout: () => ({}),
    clearTimeout: () => undefined,
    advance: (ms) => (now += ms),
  };
}

/** Warnings logged, as [bindings, message]. */
function warnings(): { log: { warn: (...args: unknown[]) => void }; seen: [unknown, string][] } {
  const seen: [unknown, string][] = [];
  return { seen, log: { warn: (obj: unknown, msg: unknown) => seen.push([obj, String(msg)]) } };
}

async function refusedCount(metrics: EdgeMetrics, virtualServer: string): Promise<number> {
  const { values } = await metrics.connectionsRefused.get();
  return values.find((v) => v.labels.virtual_server === virtualServer)?.value ?? 0;
}

test('every refusal is counted; the warning comes at most once a minute per server', async () => {
  const metrics = new EdgeMetrics(new ConnectorRegistry());
  const clock = manualClock();
  const { log, seen } = warnings();
  const refused = connectionRefusals(log, metrics, { clock });
  for (let i = 0; i < 3; i++) refused({ virtualServer: 'a', limit: 2, client: '10.0.0.9:4000' });
  refused({ virtualServer: 'b', limit: 5 });
  assert.equal(await refusedCount(metrics, 'a'), 3);
  assert.equal(await refusedCount(metrics, 'b'), 1);
  assert.deepEqual(
    seen.map(([obj]) => (obj as { virtual_server: string }).virtual_server),
    ['a', 'b'],
  );
  assert.match(seen[0]![1], /virtual server a reached max_connections \(2\)/);
  assert.match(seen[0]![1], /raise virtual_servers\[\]\.max_connections/);

  clock.advance(REFUSAL_WARNING_INTERVAL_MS - 1);
  refused({ virtualServer: 'a', limit: 2 });
  assert.equal(seen.length, 2, 'still within the minute');
  clock.advance(1);
  refused({ virtualServer: 'a', limit: 2 });
  assert.equal(seen.length, 3);
  assert.equal((seen[2]![0] as { refused: number }).refused, 4, 'three held back, plus this one');
  assert.match(seen[0]![1], /\(this is the first\)/);
  assert.match(seen[2]![1], /\(4 since the last warning\)/);
  assert.equal(await refusedCount(metrics, 'a'), 5);
});

let backend: http.Server;
let node = '';
before(async () => {
  backend = http.createServer((_req, res) => res.end('ok'));
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  node = `127.0.0.1:${(backend.address() as net.AddressInfo).port}`;
});
after(() => backend.close());

/** The servers of a document whose virtual servers are `lines`, counted by a real observer. */
function build(set: VirtualServerSet, metrics: EdgeMetrics, lines: string[]) {
  const config = validateConfiguration(
    mergeDocuments([
      parseDocument(
        ['version: 1', 'pools:', `  - {name: x, nodes: [{address: "${node}"}]}`]
          .concat('virtual_servers:', lines)
          .join('\n'),
        { fileName: 'site.yaml' },
      ),
    ]),
  );
  return set.build({
    config,
    pools: new Map([
      ['x', new Pool({ name: 'x', nodes: [{ address: node, weight: 1, state: 'active' }] })],
    ]),
    dialer: new DirectDialer(),
    logger: pino({ level: 'silent' }),
    hooks: sessionObserver(pino({ level: 'silent' }), metrics),
  });
}

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Opens a raw connection; resolves `closed` if the edge closes it within 300 ms, else `open`. */
async function hold(port: number, sockets: net.Socket[]): Promise<'open' | 'closed'> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), 300);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

test('max_connections from the document caps tcp and tls servers and a reload raises it in place', async () => {
  const metrics = new EdgeMetrics(new ConnectorRegistry());
  const set = new VirtualServerSet({ drainTimeoutMs: 0 });
  const sockets: net.Socket[] = [];
  const [tcp, tls] = [await freePort(), await freePort()];
  const doc = (cap: number) => [
    `  - {name: t, protocol: tcp, listen: "127.0.0.1:${tcp}", pool: x, max_connections: ${cap}}`,
    `  - {name: s, protocol: tls, listen: "127.0.0.1:${tls}", pool: x, max_connections: ${cap}}`,
  ];
  try {
    await set.apply(build(set, metrics, doc(1)));
    const before = set.listeners();
    const port = (name: string) => (name === 't' ? tcp : tls);
    // Idle connections that send nothing (the slowloris case) hold their slot.
    assert.deepEqual(
      [await hold(port('t'), sockets), await hold(port('t'), sockets)],
      ['open', 'closed'],
    );
    assert.deepEqual(
      [await hold(port('s'), sockets), await hold(port('s'), sockets)],
      ['open', 'closed'],
    );
    assert.deepEqual([await refusedCount(metrics, 't'), await refusedCount(metrics, 's')], [1, 1]);

    await set.apply(build(set, metrics, doc(2)));
    assert.deepEqual(set.listeners(), before);
    // The connection held since the first generation still counts: the listener was kept.
    assert.deepEqual(
      [await hold(port('t'), sockets), await hold(port('t'), sockets)],
      ['open', 'closed'],
    );
    assert.equal(await refusedCount(metrics, 't'), 2);
  } finally {
    sockets.forEach((s) => s.destroy());
    await set.close(0);
  }
});
