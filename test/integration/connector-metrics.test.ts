import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectorMetrics, startProbeServer } from '../../src/connector/index.js';
import {
  eventually,
  freePort,
  roundTrip,
  startEchoServer,
  startTestConnector,
  startTestEdge,
  stopAllConnectors,
  type TestEdge,
} from '../harness/harness.js';

type TestConnector = Awaited<ReturnType<typeof startTestConnector>>;

let edge: TestEdge;
let connector: TestConnector;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let probes: Awaited<ReturnType<typeof startProbeServer>>;

/** One sample's value from exposition text, or undefined when absent. */
function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${probes.address.port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return res.text();
}

before(async () => {
  edge = await startTestEdge();
  echo = await startEchoServer();
  const key = await edge.createKey('metrics');
  connector = await startTestConnector({
    provisionKey: key.value,
    metrics: new ConnectorMetrics({ defaultMetrics: true }),
  });
  probes = await startProbeServer('127.0.0.1:0', {
    alive: () => true,
    ready: () => connector.tunnel !== undefined,
    metrics: connector.metrics.registry,
  });
});

after(async () => {
  await probes.close();
  await stopAllConnectors();
  await echo.close();
  await edge.stop();
});

test("a session through the connector moves its sessions and bytes on the probe listener's /metrics", async () => {
  const port = await edge.publish('metrics-echo', 'metrics', echo.address);
  const payload = Buffer.alloc(4096, 1);
  const before = await scrape();
  assert.equal(valueOf(before, 'postern_connector_sessions_total'), 0);
  assert.deepEqual(await roundTrip(port, payload), payload);
  // Bytes are counted when the session has fully closed, which may trail the client's end.
  const toEdge = 'postern_connector_session_bytes_total{direction="to_edge"}';
  await eventually(async () => (valueOf(await scrape(), toEdge) ?? 0) >= 4096, 'bytes counted');
  const text = await scrape();
  assert.equal(valueOf(text, 'postern_connector_sessions_total'), 1);
  assert.equal(valueOf(text, 'postern_connector_session_bytes_total{direction="to_target"}'), 4096);
  assert.equal(valueOf(text, 'postern_connector_session_bytes_total{direction="to_edge"}'), 4096);
  assert.equal(valueOf(text, 'postern_connector_open_streams'), 0);
  const serverId = connector.tunnel!.welcome.serverId;
  assert.equal(valueOf(text, `postern_connector_tunnel_up{server_id="${serverId}"}`), 1);
  assert.equal(valueOf(text, 'postern_connector_tunnel_events_total{event="connected"}'), 1);
  assert.ok(
    (valueOf(
      text,
      'postern_connector_control_messages_total{direction="received",type="config"}',
    ) ?? 0) >= 1,
  );
  assert.equal(
    valueOf(text, 'postern_connector_control_messages_total{direction="sent",type="hello"}'),
    1,
  );
  const expiry = valueOf(
    text,
    `postern_connector_certificate_expiry_seconds{connector_id="${connector.identity!.connectorId}"}`,
  );
  assert.ok(expiry !== undefined && expiry > 3600, `certificate expiry ${expiry}`);
  assert.match(text, /^postern_connector_process_cpu_seconds_total /m);
});

test('a dial the destination refuses is counted by reason on the connector', async () => {
  const closed = await freePort();
  const port = await edge.publish('metrics-closed', 'metrics', `127.0.0.1:${closed}`);
  const series = 'postern_connector_dial_failures_total{reason="refused"}';
  const before = valueOf(await scrape(), series) ?? 0;
  await roundTrip(port, Buffer.from('x'), 5000).catch(() => undefined);
  await eventually(
    async () => (valueOf(await scrape(), series) ?? 0) > before,
    'refused dial counted',
  );
  const text = await scrape();
  assert.equal(
    valueOf(text, 'postern_connector_sessions_total'),
    1,
    'a refused dial opens no session',
  );
});
