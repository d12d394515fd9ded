import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { makeMessage } from '../../src/protocol/index.js';
import { readMessage, writeMessage } from '../../src/tunnel/index.js';
import { Backoff } from '../../src/core/index.js';
import net from 'node:net';
import {
  eventually,
  roundTrip,
  startEchoServer,
  startTestConnector,
  startTestEdge,
  type TestEdge,
} from '../harness/harness.js';

let edge: TestEdge;
let app: Awaited<ReturnType<typeof startEchoServer>>;
before(async () => {
  edge = await startTestEdge();
  app = await startEchoServer();
});
after(async () => {
  await app.close();
  await edge.stop();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('a tcp virtual server reaches a private app through the connector, bytes intact', async () => {
  const key = await edge.createKey('site-basic');
  const port = await edge.publish('basic', 'site-basic', app.address);
  const connector = await startTestConnector({ provisionKey: key.value });
  const payload = randomBytes(4 * 1024 * 1024);
  const echoed = await roundTrip(port, payload);
  assert.equal(echoed.length, payload.length);
  assert.equal(sha(echoed), sha(payload));
  assert.equal(connector.counters.total, 1);
  await connector.stop({ drainTimeoutMs: 100 });
});

test('sessions spread over every connector of the group', async () => {
  const key = await edge.createKey('site-spread');
  const port = await edge.publish('spread', 'site-spread', app.address);
  const a = await startTestConnector({ provisionKey: key.value });
  const b = await startTestConnector({ provisionKey: key.value });
  await eventually(() => edge.registry.list('site-spread').length === 2, 'both tunnels registered');
  for (let i = 0; i < 20; i++)
    assert.equal((await roundTrip(port, Buffer.from(`hi ${i}`))).toString(), `hi ${i}`);
  assert.equal(a.counters.total + b.counters.total, 20);
  assert.ok(
    a.counters.total >= 5 && b.counters.total >= 5,
    `spread ${a.counters.total}/${b.counters.total}`,
  );
  await Promise.all([a.stop({ drainTimeoutMs: 100 }), b.stop({ drainTimeoutMs: 100 })]);
});

test('without a connector new sessions fail with a counted reason, and work again after it reconnects', async () => {
  const key = await edge.createKey('site-outage');
  const port = await edge.publish('outage', 'site-outage', app.address);
  // A slow first retry leaves a window in which the group has no connector at all.
  const connector = await startTestConnector({
    provisionKey: key.value,
    backoff: new Backoff({ initialMs: 1500, jitter: 0 }),
  });
  assert.equal((await roundTrip(port, Buffer.from('before'))).toString(), 'before');
  // A crash: the tunnel is cut without drain; the connector's supervisor reconnects with backoff.
  const reconnected = new Promise((resolve) => connector.once('connected', resolve));
  connector.tunnel?.session.destroy();
  await eventually(() => edge.registry.list('site-outage').length === 0, 'tunnel gone on the edge');
  const during = await roundTrip(port, Buffer.from('during')).catch(() => Buffer.alloc(0));
  assert.equal(
    edge.registry.list('site-outage').length,
    0,
    'still no connector while the client tried',
  );
  assert.equal(during.length, 0, 'no bytes flow without a connector');
  const metrics = await (await fetch(`${edge.adminUrl}/metrics`)).text();
  assert.match(
    metrics,
    /postern_edge_dial_failures_total\{reason="POSTERN_ERR_NO_CONNECTOR"\} [1-9]/,
  );
  await reconnected;
  assert.equal((await roundTrip(port, Buffer.from('after'))).toString(), 'after');
  await connector.stop({ drainTimeoutMs: 100 });
});

test('deleting a connector closes its tunnel at once and its certificate is refused afterwards', async () => {
  const key = await edge.createKey('site-delete');
  const connector = await startTestConnector({ provisionKey: key.value });
  const id = connector.identity!.connectorId;
  const told = new Promise<{ code: string }>((resolve) =>
    connector.once('revoked', (e) => resolve(e as never)),
  );
  const del = await edge.api('DELETE', `/connectors/${id}`);
  assert.equal(del.status, 204);
  await eventually(() => !edge.registry.get(id), 'tunnel closed on the edge', 2000);
  // The connector is told why, and stops instead of retrying an identity that cannot come back.
  assert.equal((await told).code, 'POSTERN_ERR_CONNECTOR_REVOKED');
  const listed = await edge.api<{ status: string }>('GET', `/connectors/${id}`);
  assert.equal(listed.body.status, 'revoked');
  await connector.stop({ drainTimeoutMs: 100 });
  // Restarted from the same state, its certificate is refused at the tunnel.
  const again = await startTestConnector({ stateDir: connector.dir, wait: false });
  const refused = await new Promise<{ code: string }>((resolve) =>
    again.once('revoked', (e) => resolve(e as never)),
  );
  assert.equal(refused.code, 'POSTERN_ERR_CONNECTOR_REVOKED');
  assert.equal(edge.registry.get(id), undefined);
  await again.stop({ drainTimeoutMs: 100 });
});

test('a connector refuses destinations its group was not given: it is never an open proxy', async () => {
  const key = await edge.createKey('site-closed');
  await edge.publish('closed', 'site-closed', app.address);
  const connector = await startTestConnector({ provisionKey: key.value });
  const tunnel = (await eventually(
    () => edge.registry.get(connector.identity!.connectorId),
    'tunnel',
  ))!;
  const before = app.accepted();
  const other = await startEchoServer();
  for (const target of [other.address, '127.0.0.1:22', 'localhost:9090']) {
    const stream = tunnel.session.openStream();
    writeMessage(
      stream,
      makeMessage({ type: 'dial', target, protocol: 'tcp', sessionId: 't', timeoutMs: 2000 }),
    );
    const result = await readMessage(stream, { timeoutMs: 5000 });
    assert.equal(result?.type, 'dial_result');
    assert.equal((result as { code: string }).code, 'not_allowed', target);
    stream.destroy();
  }
  assert.equal(other.accepted(), 0);
  assert.equal(app.accepted(), before);
  await other.close();
  await connector.stop({ drainTimeoutMs: 100 });
});

test('a refused dial closes the client, is counted by reason, and the connector says why', async () => {
  const key = await edge.createKey('site-refused');
  const closed = await startEchoServer();
  await closed.close();
  const port = await edge.publish('refused', 'site-refused', closed.address);
  const connector = await startTestConnector({ provisionKey: key.value });
  const answer = await roundTrip(port, Buffer.from('x')).catch(() => Buffer.alloc(0));
  assert.equal(answer.length, 0);
  await eventually(
    async () =>
      /reason="POSTERN_ERR_DIAL_REFUSED"\} [1-9]/.test(
        await (await fetch(`${edge.adminUrl}/metrics`)).text(),
      ),
    'refusal counted',
  );
  assert.equal(connector.counters.failed, 1);
  await connector.stop({ drainTimeoutMs: 100 });
});

test('a draining connector finishes its sessions while new ones go to the other connector', async () => {
  const key = await edge.createKey('site-drain');
  const port = await edge.publish('drain', 'site-drain', app.address);
  const a = await startTestConnector({ provisionKey: key.value });
  const b = await startTestConnector({ provisionKey: key.value });
  await eventually(() => edge.registry.list('site-drain').length === 2, 'both tunnels');
  // A session in flight on one connector...
  const held = net.connect({ host: '127.0.0.1', port });
  held.write('first ');
  await eventually(() => a.counters.active + b.counters.active === 1, 'held session open');
  const [busy, other] = a.counters.active === 1 ? [a, b] : [b, a];
  // ...keeps flowing after that connector announces drain.
  busy.tunnel!.drain();
  await eventually(() => edge.registry.get(busy.identity!.connectorId)?.draining, 'edge saw drain');
  const before = busy.counters.total;
  for (let i = 0; i < 6; i++) await roundTrip(port, Buffer.from('n'));
  assert.equal(busy.counters.total, before, 'no new session on the draining connector');
  assert.equal(other.counters.total, 6);
  const listed = await edge.api<{ status: string }>(
    'GET',
    `/connectors/${busy.identity!.connectorId}`,
  );
  assert.equal(listed.body.status, 'draining');
  const chunks: Buffer[] = [];
  held.on('data', (c: Buffer) => chunks.push(c));
  held.end('second');
  await new Promise((resolve) => held.once('end', resolve));
  assert.equal(Buffer.concat(chunks).toString(), 'first second');
  await Promise.all([a.stop({ drainTimeoutMs: 100 }), b.stop({ drainTimeoutMs: 100 })]);
});

test('a connector renews its certificate over the tunnel and keeps serving', async () => {
  const key = await edge.createKey('site-renew');
  const port = await edge.publish('renew', 'site-renew', app.address);
  const connector = await startTestConnector({ provisionKey: key.value });
  const id = connector.identity!.connectorId;
  const oldSerial = new X509Certificate(connector.identity!.certPem).serialNumber.toLowerCase();
  await connector.renewCertificate();
  const newSerial = new X509Certificate(connector.identity!.certPem).serialNumber.toLowerCase();
  assert.notEqual(newSerial, oldSerial);
  const stored = await edge.store.connectors.get(id);
  assert.equal(stored?.certSerial.replace(/^0+/, ''), newSerial.replace(/^0+/, ''));
  assert.equal((await roundTrip(port, Buffer.from('still'))).toString(), 'still');
  // A restart uses the renewed certificate from the state directory.
  await connector.stop({ drainTimeoutMs: 100 });
  const again = await startTestConnector({ stateDir: connector.dir });
  assert.equal(new X509Certificate(again.identity!.certPem).serialNumber.toLowerCase(), newSerial);
  await again.stop({ drainTimeoutMs: 100 });
});

test('a pool added while a connector is connected is usable without reconnecting', async () => {
  const key = await edge.createKey('site-live');
  const connector = await startTestConnector({ provisionKey: key.value });
  const second = await startEchoServer();
  const port = await edge.publish('live', 'site-live', second.address);
  await eventually(
    () => connector.tunnel?.policy.size === 1,
    'connector received the new destination',
  );
  assert.equal((await roundTrip(port, Buffer.from('new'))).toString(), 'new');
  await second.close();
  await connector.stop({ drainTimeoutMs: 100 });
});

test('metrics show connected connectors per group', async () => {
  const key = await edge.createKey('site-metrics');
  const connector = await startTestConnector({ provisionKey: key.value });
  const text = await (await fetch(`${edge.adminUrl}/metrics`)).text();
  assert.match(text, /postern_edge_connected_connectors\{group="site-metrics"\} 1/);
  await connector.stop({ drainTimeoutMs: 100 });
});

test('GET /readyz/tunnels: 200 only while this edge holds a tunnel for every group a via pool names', async () => {
  const own = await startTestEdge();
  try {
    const readiness = async () => {
      const res = await fetch(`${own.adminUrl}/readyz/tunnels`);
      const body = (await res.json()) as { missing?: string[]; groups: Record<string, number> };
      return { status: res.status, body };
    };
    assert.equal((await readiness()).status, 200, 'no via pool: nothing to wait for');
    const key = await own.createKey('site-ready');
    await own.publish('ready', 'site-ready', app.address);
    const before = await readiness();
    assert.equal(before.status, 503);
    assert.deepEqual(before.body, {
      status: 'no_tunnel',
      missing: ['site-ready'],
      groups: { 'site-ready': 0 },
    });
    const connector = await startTestConnector({ provisionKey: key.value });
    await eventually(async () => (await readiness()).status === 200, 'ready with the tunnel');
    assert.deepEqual((await readiness()).body.groups, { 'site-ready': 1 });
    await connector.stop({ drainTimeoutMs: 100 });
    await eventually(async () => (await readiness()).status === 503, 'not ready without it');
  } finally {
    await own.stop();
  }
});
