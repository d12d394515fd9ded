import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { ConnectionRefusal } from './connection-cap.js';
import { DirectDialer } from './direct-dial.js';
import { HttpVirtualServer } from './http/http-virtual-server.js';
import { makePool, startBackend, type Backend } from './http/test-kit.js';
import { TcpVirtualServer } from './tcp-virtual-server.js';
import { makeCertificate, type TestKeyPair } from './tls/test-certificates.js';

type Protocol = 'tcp' | 'http' | 'https';
type Server = TcpVirtualServer | HttpVirtualServer;

let backend: Backend;
let pair: TestKeyPair;
before(async () => {
  backend = await startBackend('app');
  // The held connections must outlive the test, whatever the node's keep-alive default.
  backend.server.keepAliveTimeout = 60_000;
  pair = await makeCertificate('app.test', ['app.test']);
});
after(() => backend.close());

/** A client connection and what happened to its one request. */
interface Attempt {
  readonly socket: net.Socket;
  /** `served`: a 200 came back and the connection is still open; `closed`: closed unanswered. */
  readonly outcome: 'served' | 'closed' | 'timeout' | 'other';
}

/** Opens a connection (TLS for https), sends one HTTP/1.1 request and waits for its fate. */
async function attempt(protocol: Protocol, port: number): Promise<Attempt> {
  const socket =
    protocol === 'https'
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'app.test' })
      : net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write('GET / HTTP/1.1\r\nHost: app.test\r\n\r\n');
  let text = '';
  const outcome = await new Promise<Attempt['outcome']>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), 5_000);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      resolve(text.startsWith('HTTP/1.1 200') ? 'served' : 'other');
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
  return { socket, outcome };
}

/** Closes a client connection and waits until its side has closed. */
async function hangUp(socket: net.Socket): Promise<void> {
  const closed = once(socket, 'close');
  socket.end();
  await closed;
}

/**
 * Attempts until one is served (the server notices a hang-up a moment after the client does),
 * within 5 s; returns how many were closed unserved before that.
 */
async function servedSoon(protocol: Protocol, port: number, held: net.Socket[]): Promise<number> {
  const deadline = Date.now() + 5_000;
  for (let closed = 0; ; closed++) {
    const a = await attempt(protocol, port);
    if (a.outcome === 'served') {
      held.push(a.socket);
      return closed;
    }
    assert.equal(a.outcome, 'closed');
    assert.ok(Date.now() < deadline, 'a freed slot was not served within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function create(
  protocol: Protocol,
  maxConnections: number,
  refusals: ConnectionRefusal[],
): { server: Server; reconfigure: (maxConnections: number) => void } {
  const common = {
    name: `capped-${protocol}`,
    listen: { host: '127.0.0.1', port: 0 },
    pool: makePool('app', [backend.address]),
    dialer: new DirectDialer(),
    onConnectionRefused: (r: ConnectionRefusal) => refusals.push(r),
  };
  if (protocol === 'tcp') {
    const server = new TcpVirtualServer({ ...common, maxConnections });
    return { server, reconfigure: (n) => server.reconfigure({ ...common, maxConnections: n }) };
  }
  const options = {
    ...common,
    protocol,
    ...(protocol === 'https' ? { tls: { certificates: [{ name: 'app', ...pair }] } } : {}),
  };
  const server = new HttpVirtualServer({ ...options, maxConnections });
  return { server, reconfigure: (n) => server.reconfigure({ ...options, maxConnections: n }) };
}

for (const protocol of ['tcp', 'http', 'https'] as const) {
  describe(`a ${protocol} virtual server with max_connections 2`, () => {
    test('serves two held connections, closes a third unserved and counts it', async (t) => {
      const refusals: ConnectionRefusal[] = [];
      const { server } = create(protocol, 2, refusals);
      await server.start();
      const held: net.Socket[] = [];
      t.after(async () => {
        held.forEach((s) => s.destroy());
        await server.close({ drainTimeoutMs: 0 });
      });
      const port = server.address().port;
      for (let i = 0; i < 2; i++) {
        const a = await attempt(protocol, port);
        held.push(a.socket);
        assert.equal(a.outcome, 'served', `connection ${i + 1}`);
      }
      const third = await attempt(protocol, port);
      assert.equal(third.outcome, 'closed');
      assert.equal(refusals.length, 1);
      assert.equal(refusals[0]?.virtualServer, `capped-${protocol}`);
      assert.equal(refusals[0]?.limit, 2);
      assert.match(refusals[0]?.client ?? '', /^127\.0\.0\.1:\d+$/);

      // The two held connections are still served.
      for (const socket of held) assert.equal(socket.destroyed, false);

      await hangUp(held.shift()!);
      const closedMeanwhile = await servedSoon(protocol, port, held);
      assert.equal(refusals.length, 1 + closedMeanwhile, 'every unserved connection is counted');
      assert.equal((await attempt(protocol, port)).outcome, 'closed', 'the cap holds again');
    });

    test('a reconfigured cap applies to new connections without re-binding', async (t) => {
      const refusals: ConnectionRefusal[] = [];
      const { server, reconfigure } = create(protocol, 2, refusals);
      await server.start();
      const held: net.Socket[] = [];
      t.after(async () => {
        held.forEach((s) => s.destroy());
        await server.close({ drainTimeoutMs: 0 });
      });
      const port = server.address().port;
      for (let i = 0; i < 2; i++) held.push((await attempt(protocol, port)).socket);
      assert.equal((await attempt(protocol, port)).outcome, 'closed');

      reconfigure(3);
      assert.equal(server.address().port, port);
      const third = await attempt(protocol, port);
      held.push(third.socket);
      assert.equal(third.outcome, 'served');
      assert.equal((await attempt(protocol, port)).outcome, 'closed');
      assert.deepEqual(
        refusals.map((r) => r.limit),
        [2, 3],
      );

      reconfigure(0);
      const unlimited = await attempt(protocol, port);
      held.push(unlimited.socket);
      assert.equal(unlimited.outcome, 'served', '0 lifts the cap');
      for (const socket of held) assert.equal(socket.destroyed, false);
    });
  });
}

test('an HTTP/2 session counts as one connection however many streams it carries', async (t) => {
  const refusals: ConnectionRefusal[] = [];
  const { server } = create('https', 2, refusals);
  await server.start();
  const port = server.address().port;
  const session = http2.connect(`https://127.0.0.1:${port}`, {
    rejectUnauthorized: false,
    servername: 'app.test',
  });
  session.on('error', () => undefined);
  const held: net.Socket[] = [];
  t.after(async () => {
    session.destroy();
    held.forEach((s) => s.destroy());
    await server.close({ drainTimeoutMs: 0 });
  });
  const statuses = await Promise.all(
    [1, 2, 3, 4].map(
      (i) =>
        new Promise<number>((resolve, reject) => {
          const stream = session.request({ ':path': `/${i}`, ':authority': 'app.test' });
          stream.on('response', (headers) => resolve(Number(headers[':status'])));
          stream.on('error', reject);
          stream.resume();
          stream.end();
        }),
    ),
  );
  assert.deepEqual(statuses, [200, 200, 200, 200]);
  const second = await attempt('https', port);
  held.push(second.socket);
  assert.equal(second.outcome, 'served');
  assert.equal((await attempt('https', port)).outcome, 'closed');
  assert.equal(refusals.length, 1);
});
