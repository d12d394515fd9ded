// An edge that is told to stop turns not-ready first, keeps serving for its shutdown grace (load
// balancers and Kubernetes endpoints catch up), then lets requests in flight finish within its
// drain timeout: a rolling update loses no request.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { openEmbeddedStore } from '../../src/store/index.js';
import { freePort, startTestConnector, startTestEdge, eventually } from '../harness/harness.js';

/** A backend whose /slow answers after `slowMs` and /hang never; counts what it received. */
async function startBackend(slowMs: number) {
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    received.push(req.url ?? '');
    if (req.url === '/hang') return; // never answers
    const answer = () => res.end(`done ${req.url}`);
    if (req.url === '/slow') setTimeout(answer, slowMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { server, received, address: `127.0.0.1:${port}` };
}

/** GET on a fresh connection: status and body, or the error that cut it. */
function get(url: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err) => resolve({ error: err.message }));
    });
    req.on('error', (err) => resolve({ error: err.message }));
  });
}

async function publish(edge: Awaited<ReturnType<typeof startTestEdge>>, backend: string) {
  const port = await freePort();
  assert.equal(
    (await edge.api('POST', '/pools', { name: 'web', nodes: [{ address: backend }] })).status,
    201,
  );
  const vs = await edge.api('POST', '/virtual-servers', {
    name: 'web',
    protocol: 'http',
    listen: `127.0.0.1:${port}`,
    pool: 'web',
  });
  assert.equal(vs.status, 201);
  await eventually(
    async () => 'status' in (await get(`http://127.0.0.1:${port}/`)),
    'the virtual server',
  );
  return `http://127.0.0.1:${port}`;
}

test('on close the edge is not ready, keeps serving through its grace, and finishes requests in flight', async () => {
  const backend = await startBackend(2600);
  const edge = await startTestEdge({ shutdownGraceMs: 2000, drainTimeoutMs: 5000 });
  try {
    const url = await publish(edge, backend.address);
    const readyz = `${edge.adminUrl}/readyz`;
    assert.equal((await fetch(readyz)).status, 200);
    const inFlight = get(`${url}/slow`);
    await eventually(() => backend.received.includes('/slow'), 'the slow request at the backend');
    const started = Date.now();
    const closed = edge.close();
    assert.equal((await fetch(readyz)).status, 503, 'not ready as soon as the stop begins');
    // A client the load balancer still sends during the grace is served.
    const late = await get(`${url}/late`);
    assert.deepEqual(late, { status: 200, body: 'done /late' });
    assert.ok(Date.now() - started < 2000, 'the late request came within the grace');
    // The request in flight is not cut: it finishes after the grace, within the drain timeout.
    assert.deepEqual(await inFlight, { status: 200, body: 'done /slow' });
    await closed;
    assert.ok(Date.now() - started >= 2000, 'close waited for the grace');
    assert.ok('error' in (await get(`${url}/after`)), 'nothing is accepted once closed');
  } finally {
    await edge.stop().catch(() => undefined);
    backend.server.closeAllConnections();
    backend.server.close();
  }
});

test('requests still in flight when the drain timeout ends are cut, and close returns', async () => {
  const backend = await startBackend(0);
  const edge = await startTestEdge({ drainTimeoutMs: 400 });
  try {
    const url = await publish(edge, backend.address);
    const hanging = get(`${url}/hang`);
    await eventually(
      () => backend.received.includes('/hang'),
      'the hanging request at the backend',
    );
    const started = Date.now();
    await edge.close();
    const waited = Date.now() - started;
    assert.ok(waited >= 350, `close waited for the drain (${waited} ms)`);
    assert.ok(waited < 5000, `close returned soon after the drain timeout (${waited} ms)`);
    assert.ok('error' in (await hanging), 'the hanging request was cut');
  } finally {
    await edge.stop().catch(() => undefined);
    backend.server.closeAllConnections();
    backend.server.close();
  }
});

test('a clean stop writes every tunnel end before the store closes: no lost write, no warning', async () => {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }),
    },
  );
  const edge = await startTestEdge({ logger });
  const dataDir = edge.dir;
  const key = await edge.createKey('shut');
  const connector = await startTestConnector({ provisionKey: key.value });
  const id = connector.identity?.connectorId ?? '';
  try {
    const closing = Date.now();
    await edge.close();
    assert.deepEqual(
      lines.filter((l) => l.level >= 40 && /tunnel end/.test(l.msg)).map((l) => l.msg),
      [],
      'no tunnel end was lost',
    );
    const store = await openEmbeddedStore({ dataDir });
    try {
      const seen = (await store.connectors.get(id))?.lastSeenAt ?? 0;
      assert.ok(seen >= closing, `the tunnel end at close was recorded (${seen} >= ${closing})`);
    } finally {
      await store.close();
    }
  } finally {
    await connector.stop().catch(() => undefined);
    await edge.stop().catch(() => undefined);
  }
});
