import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gotoSteadily, launchChromium } from '../support/browser.js';
import { eventually, freePort, startTestEdge, type TestEdge } from '../harness/harness.js';
import { createSelfSignedCert } from '../support/tls-cert.js';

/** A Node HTTP node that holds every request until `releaseOne()`, and counts how many at once. */
async function holdingBackend() {
  const held: http.ServerResponse[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let seen = 0;
  const server = http.createServer((_req, res) => {
    seen++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held.length,
    seen: () => seen,
    maxInFlight: () => maxInFlight,
    releaseOne: () => held.shift()?.writeHead(200, { 'content-type': 'text/plain' }).end('done'),
    close: () => {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A TCP node that echoes and counts connections, in all and open at once. */
async function countingEcho() {
  let open = 0;
  let maxOpen = 0;
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    accepted++;
    open++;
    maxOpen = Math.max(maxOpen, open);
    sockets.add(socket);
    socket.on('close', () => {
      open--;
      sockets.delete(socket);
    });
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    maxOpen: () => maxOpen,
    accepted: () => accepted,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function configure(
  edge: TestEdge,
  protocol: 'http' | 'tcp' | 'tls',
  pool: Record<string, unknown>,
) {
  const created = await edge.api('POST', '/pools', { name: 'fragile', ...pool });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const port = await freePort();
  const vs = await edge.api('POST', '/virtual-servers', {
    name: 'fragile',
    protocol,
    listen: `127.0.0.1:${port}`,
    pool: 'fragile',
  });
  assert.equal(vs.status, 201, JSON.stringify(vs.body));
  return port;
}

/**
 * Starts a node with `startNode` and an edge whose virtual server `fragile` (`protocol`) fronts
 * pool `fragile`: that one node, one connection at a time, and `pool`'s settings; runs `body`,
 * then stops both.
 */
async function withQueuedPool<N extends { address: string; close(): void }>(
  startNode: () => Promise<N>,
  protocol: 'http' | 'tcp' | 'tls',
  pool: Record<string, unknown>,
  body: (o: { node: N; edge: TestEdge; port: number }) => Promise<void>,
): Promise<void> {
  const node = await startNode();
  const edge = await startTestEdge();
  try {
    const port = await configure(edge, protocol, {
      nodes: [{ address: node.address }],
      node_max_connections: 1,
      ...pool,
    });
    await body({ node, edge, port });
  } finally {
    await edge.stop();
    node.close();
  }
}

interface QueueStatus {
  status: { queued: number; queueTimeouts: number; nodes: { maxConnections: number }[] };
}

const queuedOf = async (edge: TestEdge) =>
  (await edge.api<QueueStatus>('GET', '/pools/fragile')).body.status.queued;

const metric = async (edge: TestEdge, series: string) => {
  const text = await (await fetch(`${edge.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

test('http: with node_max_connections 1 and a long queue, 3 concurrent requests all succeed one at a time', () =>
  withQueuedPool(
    holdingBackend,
    'http',
    {
      queue_timeout_ms: 60_000,
    },
    async ({ node, edge, port }) => {
      const answers = [1, 2, 3].map(async (i) => {
        const res = await fetch(`http://127.0.0.1:${port}/r${i}`);
        return `${res.status} ${await res.text()}`;
      });
      await eventually(() => node.held() === 1, 'the node holds the first request');
      await eventually(async () => (await queuedOf(edge)) === 2, 'two requests queued');
      assert.equal(await metric(edge, 'postern_edge_pool_queue_length{pool="fragile"}'), 2);
      // A client that goes away while queued leaves the queue and takes no slot.
      const leaving = net.connect(port, '127.0.0.1');
      leaving.on('error', () => undefined);
      leaving.write('GET /gone HTTP/1.1\r\nHost: x\r\n\r\n');
      await eventually(async () => (await queuedOf(edge)) === 3, 'the raw request queued too');
      leaving.destroy();
      await eventually(async () => (await queuedOf(edge)) === 2, 'the gone client left the queue');
      const status = await edge.api<QueueStatus>('GET', '/pools/fragile');
      assert.equal(status.body.status.nodes[0]?.maxConnections, 1);
      for (let released = 0; released < 3; released++) {
        await eventually(() => node.held() === 1, `the node holds request ${released + 1}`);
        node.releaseOne();
      }
      assert.deepEqual(await Promise.all(answers), ['200 done', '200 done', '200 done']);
      assert.equal(node.seen(), 3);
      assert.equal(node.maxInFlight(), 1, 'the node never had more than one request at a time');
      assert.equal(await queuedOf(edge), 0);
    },
  ));

test('http: a short queue times out with 503 POSTERN_ERR_POOL_QUEUE_TIMEOUT; a full queue answers 503 POSTERN_ERR_POOL_FULL at once', () =>
  withQueuedPool(
    holdingBackend,
    'http',
    {
      queue_timeout_ms: 1000,
      queue_max: 1,
    },
    async ({ node, edge, port }) => {
      const url = `http://127.0.0.1:${port}/`;
      const first = fetch(url).then(async (res) => `${res.status} ${await res.text()}`);
      await eventually(() => node.held() === 1, 'the node holds the first request');
      const started = Date.now();
      const second = fetch(url);
      await eventually(async () => (await queuedOf(edge)) === 1, 'the second request queued');
      const third = await fetch(url);
      assert.equal(third.status, 503);
      assert.equal(third.headers.get('x-postern-error'), 'POSTERN_ERR_POOL_FULL');
      await third.text();
      const timedOut = await second;
      assert.equal(timedOut.status, 503);
      assert.equal(timedOut.headers.get('x-postern-error'), 'POSTERN_ERR_POOL_QUEUE_TIMEOUT');
      assert.match(await timedOut.text(), /POSTERN_ERR_POOL_QUEUE_TIMEOUT/);
      assert.ok(Date.now() - started >= 900, 'it waited for queue_timeout_ms');
      assert.equal(node.seen(), 1, 'neither refused request reached the node');
      assert.equal(await metric(edge, 'postern_edge_pool_queue_timeouts_total{pool="fragile"}'), 1);
      node.releaseOne();
      assert.equal(await first, '200 done');
    },
  ));

/** Connects and resolves once `payload` came back (the session reached the node). */
function echoed(port: number, payload: string) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const result = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString();
      if (text === payload) resolve('echoed');
    });
    socket.on('close', () => resolve(text === payload ? 'echoed' : 'closed'));
  });
  socket.write(payload);
  return { socket, result };
}

test('tcp: a session waits in the queue until the one on the node ends; with a short queue it is closed', () =>
  withQueuedPool(
    countingEcho,
    'tcp',
    {
      queue_timeout_ms: 60_000,
    },
    async ({ node, edge, port }) => {
      const one = echoed(port, 'one');
      assert.equal(await one.result, 'echoed');
      const two = echoed(port, 'two');
      await eventually(async () => (await queuedOf(edge)) === 1, 'the second session queued');
      one.socket.destroy();
      assert.equal(await two.result, 'echoed', 'the queued session reached the node');
      assert.equal(node.maxOpen(), 1, 'never two sessions on the node at once');
      two.socket.destroy();

      const patched = await edge.api('PATCH', '/pools/fragile', { queue_timeout_ms: 300 });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      const three = echoed(port, 'three');
      assert.equal(await three.result, 'echoed');
      const four = echoed(port, 'four');
      assert.equal(await four.result, 'closed', 'closed after queue_timeout_ms');
      const reason =
        'postern_edge_sessions_total{virtual_server="fragile",reason="POSTERN_ERR_POOL_QUEUE_TIMEOUT"}';
      await eventually(async () => (await metric(edge, reason)) === 1, 'the close reason counted');
      three.socket.destroy();
      assert.equal(node.maxOpen(), 1);
    },
  ));

/** Sends an Upgrade request on a raw connection; resolves with the answer's status line. */
function upgrade(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(
    'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  const statusLine = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (text.includes('\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
    });
    socket.on('close', () => resolve(text));
  });
  return { socket, statusLine };
}

test('http upgrade: a WebSocket upgrade waits in the queue until the tunnel on the node ends', async () => {
  let accepted = 0;
  const server = http.createServer((_req, res) => res.end());
  const tunnels: net.Socket[] = [];
  server.on('upgrade', (_req, socket: net.Socket) => {
    accepted++;
    tunnels.push(socket);
    socket.on('error', () => undefined);
    // Like a WebSocket server: the client's end ends the tunnel.
    socket.on('end', () => socket.end());
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const edge = await startTestEdge();
  const clients: net.Socket[] = [];
  try {
    const port = await configure(edge, 'http', {
      nodes: [{ address: `127.0.0.1:${(server.address() as AddressInfo).port}` }],
      node_max_connections: 1,
      queue_timeout_ms: 60_000,
    });
    const first = upgrade(port);
    clients.push(first.socket);
    assert.match(await first.statusLine, /^HTTP\/1\.1 101/);
    const second = upgrade(port);
    clients.push(second.socket);
    await eventually(async () => (await queuedOf(edge)) === 1, 'the second upgrade queued');
    assert.equal(accepted, 1, 'the queued upgrade did not reach the node');
    first.socket.destroy();
    assert.match(
      await second.statusLine,
      /^HTTP\/1\.1 101/,
      'it got the node once the first ended',
    );
    assert.equal(accepted, 2);
  } finally {
    for (const socket of [...clients, ...tunnels]) socket.destroy();
    await edge.stop();
    server.closeAllConnections();
    server.close();
  }
});

test('tcp with abort_on_close: a client that half-closes while queued leaves the queue at once and never reaches the node', () =>
  withQueuedPool(
    countingEcho,
    'tcp',
    {
      queue_timeout_ms: 60_000,
      abort_on_close: true,
    },
    async ({ node, edge, port }) => {
      const one = echoed(port, 'one');
      assert.equal(await one.result, 'echoed');
      const leaving = echoed(port, 'gone');
      await eventually(async () => (await queuedOf(edge)) === 1, 'the second session queued');
      leaving.socket.end();
      assert.equal(await leaving.result, 'closed', 'the edge closed the client that left');
      await eventually(async () => (await queuedOf(edge)) === 0, 'it left the queue');
      const reason = 'postern_edge_sessions_total{virtual_server="fragile",reason="client_gone"}';
      await eventually(async () => (await metric(edge, reason)) === 1, 'its end was recorded');
      one.socket.destroy();
      const three = echoed(port, 'three');
      assert.equal(await three.result, 'echoed', 'the next session gets the node');
      three.socket.destroy();
      assert.equal(node.accepted(), 2, 'the client that left never reached the node');
    },
  ));

/**
 * A TCP node like a batch server: it reads a request until the client's FIN, then answers
 * `got <request>` and closes. It records each request it got whole.
 */
async function batchNode() {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      const request = Buffer.concat(chunks);
      requests.push(request.toString('latin1'));
      socket.end(Buffer.concat([Buffer.from('got '), request]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    accepted: () => accepted,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * A batch client: sends `request` (and, unless `halfClose` is false, its FIN at once, like
 * `printf job | nc -N`); `answer` resolves with all it got once the edge closed it.
 */
function batchClient(port: number, request: string | Buffer, halfClose = true) {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => undefined);
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  const answer = new Promise<string>((resolve) => socket.on('close', () => resolve(text)));
  socket.write(request);
  if (halfClose) socket.end();
  return { socket, answer };
}

/** Gives a client's FIN, sent already, time to reach the edge while the client is queued. */
const finArrives = () => new Promise((resolve) => setTimeout(resolve, 200));

test('tcp by default: a client that sends its request and half-closes while queued keeps its place and is served', () =>
  withQueuedPool(
    batchNode,
    'tcp',
    {
      queue_timeout_ms: 60_000,
    },
    async ({ node, edge, port }) => {
      const first = batchClient(port, 'first', false);
      await eventually(() => node.accepted() === 1, 'the first session holds the node');
      const queued = batchClient(port, 'job');
      await eventually(async () => (await queuedOf(edge)) === 1, 'the batch client queued');
      await finArrives();
      assert.equal(await queuedOf(edge), 1, 'its FIN did not take it out of the queue');
      first.socket.end();
      assert.equal(await first.answer, 'got first');
      assert.equal(await queued.answer, 'got job', 'it got the answer to its request');
      assert.deepEqual(node.requests, ['first', 'job'], 'the node got its bytes and its FIN');
    },
  ));

test('tcp: a client that resets while queued leaves the queue at once, with abort_on_close or without', () =>
  withQueuedPool(
    batchNode,
    'tcp',
    {
      queue_timeout_ms: 60_000,
    },
    async ({ node, edge, port }) => {
      const first = batchClient(port, 'first', false);
      await eventually(() => node.accepted() === 1, 'the first session holds the node');
      for (const abortOnClose of [false, true]) {
        const patched = await edge.api('PATCH', '/pools/fragile', { abort_on_close: abortOnClose });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        const resetting = batchClient(port, 'gone', false);
        await eventually(async () => (await queuedOf(edge)) === 1, `queued (${abortOnClose})`);
        resetting.socket.resetAndDestroy();
        await eventually(async () => (await queuedOf(edge)) === 0, `it left (${abortOnClose})`);
      }
      const reason = 'postern_edge_sessions_total{virtual_server="fragile",reason="client_gone"}';
      await eventually(async () => (await metric(edge, reason)) === 2, 'both ends were recorded');
      first.socket.end();
      assert.equal(await first.answer, 'got first');
      const next = batchClient(port, 'next');
      assert.equal(await next.answer, 'got next', 'the next session gets the node');
      assert.equal(node.accepted(), 2, 'no client that reset reached the node');
    },
  ));

/** A real ClientHello for `localhost`, as a TLS client sends it first. */
async function clientHelloBytes(): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hello = new Promise<Buffer>((resolve) =>
    server.once('connection', (socket) => socket.once('data', resolve)),
  );
  const client = tls.connect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    servername: 'localhost',
  });
  client.on('error', () => undefined);
  try {
    return await hello;
  } finally {
    client.destroy();
    server.close();
  }
}

test('tls passthrough by default: a client that half-closes while queued keeps its place and its bytes and FIN reach the node; a reset leaves', async () => {
  const hello = await clientHelloBytes();
  const node = await batchNode();
  const edge = await startTestEdge();
  try {
    const port = await configure(edge, 'tls', {
      nodes: [{ address: node.address }],
      node_max_connections: 1,
      queue_timeout_ms: 60_000,
    });
    const first = batchClient(port, hello, false);
    await eventually(() => node.accepted() === 1, 'the first session holds the node');
    const queued = batchClient(port, hello);
    await eventually(async () => (await queuedOf(edge)) === 1, 'the half-closed client queued');
    const resetting = batchClient(port, hello, false);
    await eventually(async () => (await queuedOf(edge)) === 2, 'the third client queued');
    resetting.socket.resetAndDestroy();
    await eventually(async () => (await queuedOf(edge)) === 1, 'the client that reset left');
    await finArrives();
    assert.equal(await queuedOf(edge), 1, 'the FIN did not take the other out of the queue');
    first.socket.end();
    await first.answer;
    assert.equal(await queued.answer, `got ${hello.toString('latin1')}`, 'it was served');
    assert.equal(node.requests.length, 2, 'the node got its ClientHello and its FIN');
    assert.equal(node.accepted(), 2, 'the client that reset never reached the node');
  } finally {
    await edge.stop();
    node.close();
  }
});

/** A TLS node that keeps each connection open and counts them, in all and open at once. */
async function holdingTlsNode() {
  const { cert, key } = await createSelfSignedCert();
  let open = 0;
  let maxOpen = 0;
  let accepted = 0;
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert, key }, (socket) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      open--;
      sockets.delete(socket);
    });
    socket.write('hello\n');
  });
  // Counted at TCP accept: a connection that never finished its handshake counts too.
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    cert,
    maxOpen: () => maxOpen,
    accepted: () => accepted,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Connects through the tls virtual server; resolves `handshake` with the outcome. */
function tlsClient(port: number, ca: string) {
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca });
  const handshake = new Promise<string>((resolve) => {
    socket.once('secureConnect', () => resolve('secure'));
    // Closed before its handshake: an error ('disconnected before secure TLS connection').
    socket.once('error', () => resolve('cut'));
    socket.once('close', () => resolve('cut'));
  });
  return { socket, handshake };
}

test('tls passthrough: a session waits in the queue for the node, a client that leaves leaves it, and a short queue times out', async () => {
  const node = await holdingTlsNode();
  const edge = await startTestEdge();
  const clients: tls.TLSSocket[] = [];
  const connect = () => {
    const c = tlsClient(port, node.cert);
    clients.push(c.socket);
    return c;
  };
  let port = 0;
  try {
    port = await configure(edge, 'tls', {
      nodes: [{ address: node.address }],
      node_max_connections: 1,
      queue_timeout_ms: 60_000,
      // The client that leaves closes with a FIN: only abort_on_close takes it out of the queue.
      abort_on_close: true,
    });
    const first = connect();
    assert.equal(await first.handshake, 'secure');
    const second = connect();
    await eventually(async () => (await queuedOf(edge)) === 1, 'the second session queued');
    const leaving = connect();
    await eventually(async () => (await queuedOf(edge)) === 2, 'the third session queued');
    leaving.socket.destroy();
    await eventually(async () => (await queuedOf(edge)) === 1, 'the client that left left');
    const left = 'postern_edge_sessions_total{virtual_server="fragile",reason="client_closed"}';
    await eventually(async () => (await metric(edge, left)) === 1, 'its end was recorded');
    assert.equal(node.accepted(), 1, 'no queued session reached the node');
    first.socket.destroy();
    assert.equal(await second.handshake, 'secure', 'the queued session got the node');
    assert.equal(node.accepted(), 2, 'the client that left never reached the node');
    assert.equal(node.maxOpen(), 1, 'never two sessions on the node at once');

    const patched = await edge.api('PATCH', '/pools/fragile', { queue_timeout_ms: 300 });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const started = Date.now();
    const late = connect();
    assert.equal(await late.handshake, 'cut', 'closed after queue_timeout_ms');
    assert.ok(Date.now() - started >= 250, 'it waited in the queue first');
    const reason =
      'postern_edge_sessions_total{virtual_server="fragile",reason="POSTERN_ERR_POOL_QUEUE_TIMEOUT"}';
    await eventually(async () => (await metric(edge, reason)) === 1, 'the close reason counted');
    assert.equal(node.accepted(), 2);
  } finally {
    for (const socket of clients) socket.destroy();
    await edge.stop();
    node.close();
  }
});

/** Where `npm run build` puts the console, relative to this compiled file (dist/test/integration). */
const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

test('console: the pools table shows each node against its limit and the pool queue', async () => {
  assert.ok(
    existsSync(`${CONSOLE_DIR}index.html`),
    `no built console at ${CONSOLE_DIR}: run \`npm run build\` (it runs build:console)`,
  );
  const node = await countingEcho();
  const edge = await startTestEdge({ consoleDir: CONSOLE_DIR });
  const browser = await launchChromium();
  try {
    const port = await configure(edge, 'tcp', {
      nodes: [{ address: node.address }],
      node_max_connections: 1,
      queue_timeout_ms: 60_000,
    });
    const one = echoed(port, 'one');
    assert.equal(await one.result, 'echoed');
    const two = echoed(port, 'two');
    await eventually(async () => (await queuedOf(edge)) === 1, 'the second session queued');
    const page = await browser.newPage();
    await gotoSteadily(page, `${edge.adminUrl}/`);
    await page.getByLabel('Admin token').fill(edge.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('navigation')
      .getByRole('link', { name: 'Virtual servers & pools' })
      .click();
    const pool = page.getByRole('article', { name: /fragile/ });
    const row = pool.getByRole('row', { name: new RegExp(node.address.replace(/\./g, '\\.')) });
    await row.waitFor({ timeout: 10_000 });
    const cells = await row.locator('td').allTextContents();
    assert.ok(cells.includes('1 / 1'), `connections against the limit in ${cells.join(' | ')}`);
    assert.match((await pool.textContent()) ?? '', /queue 1 waiting · 0 timed out/);
    one.socket.destroy();
    two.socket.destroy();
  } finally {
    await browser.close();
    await edge.stop();
    node.close();
  }
});
