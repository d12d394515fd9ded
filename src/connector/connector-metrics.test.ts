import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { X509Certificate } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { makeMessage } from '../protocol/index.js';
import { readMessage, writeMessage } from '../tunnel/index.js';
import { createSelfSignedCert } from '../../test/support/tls-cert.js';
import { ConnectorMetrics, type ConnectorMetricsSource } from './connector-metrics.js';
import { handleDataStream, type SessionCounters } from './data-stream-handler.js';
import { TargetPolicy } from './target-policy.js';

/** The value of one sample of a family, or undefined when the family has no such sample. */
async function sample(
  metrics: ConnectorMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const family = await metrics.registry.getSingleMetric(name)?.get();
  const wanted = Object.entries(labels);
  return family?.values.find((v) =>
    wanted.every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value),
  )?.value;
}

function source(overrides: Partial<ConnectorMetricsSource> = {}): ConnectorMetricsSource {
  return {
    heldEdges: () => [],
    knownEdges: () => [],
    openStreams: () => 0,
    identity: () => undefined,
    now: () => Date.now(),
    ...overrides,
  };
}

test('tunnel_up is 1 for each held edge and 0 for a known edge without a tunnel', async () => {
  const metrics = new ConnectorMetrics();
  let held = ['edge-a'];
  metrics.attach(source({ heldEdges: () => held, knownEdges: () => ['edge-a', 'edge-b'] }));
  assert.equal(await sample(metrics, 'postern_connector_tunnel_up', { server_id: 'edge-a' }), 1);
  assert.equal(await sample(metrics, 'postern_connector_tunnel_up', { server_id: 'edge-b' }), 0);
  held = ['edge-b'];
  assert.equal(await sample(metrics, 'postern_connector_tunnel_up', { server_id: 'edge-a' }), 0);
  assert.equal(await sample(metrics, 'postern_connector_tunnel_up', { server_id: 'edge-b' }), 1);
});

test('certificate expiry counts seconds to notAfter on the injected clock, absent before enrollment', async () => {
  const { cert } = await createSelfSignedCert({ days: 2 });
  const notAfter = new Date(new X509Certificate(cert).validTo).getTime();
  let identity: { connectorId: string; certPem: string } | undefined = undefined;
  let now = notAfter - 3_600_000;
  const metrics = new ConnectorMetrics();
  metrics.attach(source({ identity: () => identity, now: () => now }));
  assert.equal(await sample(metrics, 'postern_connector_certificate_expiry_seconds'), undefined);
  identity = { connectorId: 'c1', certPem: cert };
  assert.equal(
    await sample(metrics, 'postern_connector_certificate_expiry_seconds', { connector_id: 'c1' }),
    3600,
  );
  now = notAfter + 10_000;
  assert.equal(
    await sample(metrics, 'postern_connector_certificate_expiry_seconds', { connector_id: 'c1' }),
    -10,
  );
});

test('a Kubernetes snapshot sets the service count and health, and is counted by result', async () => {
  const metrics = new ConnectorMetrics();
  metrics.kubernetesSnapshot([{ services: [1, 2] }, { services: [3] }]);
  assert.equal(await sample(metrics, 'postern_connector_kubernetes_services'), 3);
  assert.equal(await sample(metrics, 'postern_connector_kubernetes_discovery_failing'), 0);
  metrics.kubernetesSnapshot([{ services: [], error: 'forbidden' }]);
  assert.equal(await sample(metrics, 'postern_connector_kubernetes_discovery_failing'), 1);
  assert.equal(await sample(metrics, 'postern_connector_kubernetes_services'), 0);
  assert.equal(
    await sample(metrics, 'postern_connector_kubernetes_snapshots_total', { result: 'ok' }),
    1,
  );
  assert.equal(
    await sample(metrics, 'postern_connector_kubernetes_snapshots_total', { result: 'error' }),
    1,
  );
});

test('default metrics are registered with the connector prefix only when asked for', async () => {
  const plain = new ConnectorMetrics();
  const full = new ConnectorMetrics({ defaultMetrics: true });
  assert.equal(
    plain.registry.getSingleMetric('postern_connector_process_cpu_seconds_total'),
    undefined,
  );
  assert.ok(full.registry.getSingleMetric('postern_connector_process_cpu_seconds_total'));
  assert.match(await full.registry.metrics(), /^postern_connector_nodejs_heap_size_total_bytes /m);
});

/** Serves each accepted socket as a data stream from the edge; returns the port. */
async function streamServer(
  policy: TargetPolicy,
  metrics: ConnectorMetrics,
  counters: SessionCounters,
): Promise<net.Server> {
  const logger = pino({ level: 'silent' });
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    void handleDataStream(socket, { policy: () => policy, logger, counters, metrics });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return server;
}

/** Dials `target` through the handler; sends `payload` when allowed and returns code and answer. */
async function dialThrough(
  port: number,
  target: string,
  payload: Buffer,
): Promise<{ code: string; answer: Buffer }> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve).once('error', reject);
  });
  writeMessage(socket, makeMessage({ type: 'dial', target, sessionId: 's', timeoutMs: 2000 }));
  const result = await readMessage(socket, { timeoutMs: 5000 });
  assert.equal(result?.type, 'dial_result');
  const code = (result as { code: string }).code;
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => socket.once('end', resolve));
  if (code === 'ok') socket.end(payload);
  await ended;
  socket.destroy();
  return { code, answer: Buffer.concat(chunks) };
}

test('data streams count opened sessions, bytes each way and dial failures by reason', async (t) => {
  const echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await new Promise<void>((resolve) => echo.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const echoPort = (echo.address() as net.AddressInfo).port;
  const metrics = new ConnectorMetrics();
  const counters: SessionCounters = { active: 0, total: 0, failed: 0 };
  const policy = new TargetPolicy([{ host: '127.0.0.1', ports: [echoPort, echoPort] }]);
  const server = await streamServer(policy, metrics, counters);
  t.after(() => (server.close(), echo.close()));
  const port = (server.address() as net.AddressInfo).port;

  const payload = Buffer.alloc(1000, 7);
  const ok = await dialThrough(port, `127.0.0.1:${echoPort}`, payload);
  assert.equal(ok.code, 'ok');
  assert.deepEqual(ok.answer, payload);
  const denied = await dialThrough(port, '127.0.0.1:1', payload);
  assert.equal(denied.code, 'not_allowed');

  assert.equal(await sample(metrics, 'postern_connector_sessions_total'), 1);
  // Bytes are added when the joined pair has fully closed, which may trail the client's end.
  const bytes = async () => [
    await sample(metrics, 'postern_connector_session_bytes_total', { direction: 'to_target' }),
    await sample(metrics, 'postern_connector_session_bytes_total', { direction: 'to_edge' }),
  ];
  const deadline = Date.now() + 5000;
  while ((await bytes())[0] === undefined && Date.now() < deadline) await delay(20);
  assert.deepEqual(await bytes(), [1000, 1000]);
  assert.equal(counters.active, 0);
  assert.equal(
    await sample(metrics, 'postern_connector_dial_failures_total', { reason: 'not_allowed' }),
    1,
  );
});
