import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { makeCertificate } from '../tls/test-certificates.js';
import type { AccessGate } from './access-gate.js';
import { startRawBackend, type RawBackend } from './test-raw-backend.js';
import { makePool, startProxy, waitFor, type Proxy } from './test-kit.js';

/** A raw client connection that collects what the proxy sends until it closes (bounded). */
function rawClient(port: number): {
  socket: net.Socket;
  text: () => string;
  closed: Promise<string>;
} {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const text = (): string => Buffer.concat(chunks).toString('latin1');
  const closed = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the proxy did not close the connection; got ${text()}`));
    }, 4000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text());
    });
  });
  return { socket, text, closed };
}

const UPGRADE = 'GET /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: anything\r\n\r\n';
const SMUGGLED = 'GET /admin/secret HTTP/1.1\r\nHost: x\r\nX-Postern-User: ceo@corp\r\n\r\n';

/** The raw backend's answer: the whole head of the first request is in. */
function afterHead(answer: string): (received: string) => string | undefined {
  return (received) => (received.includes('\r\n\r\n') ? answer : undefined);
}

describe('an Upgrade request the node does not switch', () => {
  let proxies: Proxy[] = [];
  let backends: RawBackend[] = [];

  before(() => {
    proxies = [];
    backends = [];
  });

  after(async () => {
    for (const p of proxies) await p.close();
    for (const b of backends) await b.close();
  });

  async function setUp(
    answer: string | ((received: string) => string | undefined),
    timeouts: { keepaliveTimeoutMs?: number; requestTimeoutMs?: number } = {},
  ) {
    const backend = await startRawBackend(typeof answer === 'string' ? afterHead(answer) : answer);
    const proxy = await startProxy({
      ...timeouts,
      pool: makePool('raw', [backend.address]),
      rules: [
        {
          name: 'deny-admin',
          when: { path_prefix: '/admin' },
          request: [{ deny: { status: 403 } }],
        },
        { name: 'strip', response: [{ remove_header: 'X-Internal-Secret' }] },
      ],
    });
    backends.push(backend);
    proxies.push(proxy);
    return { backend, proxy };
  }

  test('a refused upgrade with a framed answer keeps the connection HTTP: what follows is parsed and meets the rules', async () => {
    const { backend, proxy } = await setUp(
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Internal-Secret: s3cret\r\nX-App: 1\r\n\r\nhello',
    );
    const client = rawClient(proxy.port);
    client.socket.write(UPGRADE);
    await waitFor(() => client.text().includes('hello'), 3000);
    const first = client.text();
    assert.match(first, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(first, /\r\nX-App: 1\r\n/);
    assert.doesNotMatch(first, /X-Internal-Secret|Connection: close/i);
    assert.ok(first.endsWith('\r\n\r\nhello'), first);
    client.socket.write(SMUGGLED);
    await waitFor(() => client.text().includes('Denied by rule "deny-admin"'), 3000);
    assert.match(client.text(), /hello(HTTP\/1\.1 403 Forbidden\r\n)/);
    client.socket.destroy();
    assert.equal(backend.received.length, 1);
    assert.match(backend.received[0] as string, /^GET \/app HTTP\/1\.1\r\n/);
    assert.doesNotMatch(backend.received.join(''), /admin|ceo@corp/);
    await waitFor(() => proxy.records.some((r) => r.upgrade && r.path === '/app'));
    assert.equal(proxy.records.find((r) => r.path === '/app')?.status, 200);
    await waitFor(() => proxy.records.some((r) => r.path === '/admin/secret'));
    const denied = proxy.records.find((r) => r.path === '/admin/secret');
    assert.equal(denied?.status, 403);
    assert.equal(denied?.upgrade, false);
  });

  test('after a node answers 403 to an Upgrade, the next request on that client connection is answered on a fresh node connection, and deny rules still apply', async () => {
    const { backend, proxy } = await setUp((received) => {
      if (!received.includes('\r\n\r\n')) return undefined;
      return /\r\nupgrade:/i.test(received)
        ? 'HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nno socket'
        : 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain';
    });
    const client = rawClient(proxy.port);
    client.socket.write(UPGRADE);
    await waitFor(() => client.text().endsWith('no socket'), 3000);
    assert.match(client.text(), /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.doesNotMatch(client.text(), /Connection: close/i);
    client.socket.write('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => client.text().endsWith('plain'), 3000);
    client.socket.write(SMUGGLED);
    await waitFor(() => client.text().includes('deny-admin'), 3000);
    client.socket.destroy();
    const got = client.text();
    assert.match(got, /no socketHTTP\/1\.1 200 OK\r\n[^]*plainHTTP\/1\.1 403 Forbidden\r\n/);
    // The Upgrade's node connection was closed, never reused: the plain request had its own.
    assert.equal(backend.received.length, 2);
    assert.match(backend.received[0] as string, /^GET \/app HTTP\/1\.1\r\n/);
    assert.match(backend.received[1] as string, /^GET \/next HTTP\/1\.1\r\n/);
    assert.doesNotMatch(backend.received.join(''), /admin|ceo@corp/);
  });

  test('a connection given back after a refused upgrade waits keepalive_timeout for its next request, not request_timeout', async () => {
    const { proxy } = await setUp('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno', {
      keepaliveTimeoutMs: 200,
      requestTimeoutMs: 30_000,
    });
    const client = rawClient(proxy.port);
    const started = Date.now();
    client.socket.write(UPGRADE);
    // rawClient gives up after 4 s: a wait of request_timeout (30 s) would fail here.
    const got = await client.closed;
    assert.match(got, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.ok(got.endsWith('\r\n\r\nno'), 'closed quietly, without a 408: ' + got);
    assert.ok(Date.now() - started < 4000);
  });

  test('one client connection can be refused many upgrades in a row without piling up listeners', async () => {
    const { backend, proxy } = await setUp('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno');
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const client = rawClient(proxy.port);
    const rounds = 14;
    try {
      for (let i = 1; i <= rounds; i++) {
        client.socket.write(UPGRADE);
        await waitFor(() => (client.text().match(/403 Forbidden/g) ?? []).length === i, 3000);
      }
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
      client.socket.destroy();
    }
    assert.equal(backend.received.length, rounds);
    assert.deepEqual(
      warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
      [],
    );
  });

  test('a request pipelined right behind the Upgrade request is parsed after the answer, never forwarded raw', async () => {
    const { backend, proxy } = await setUp(
      'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n0\r\n\r\n',
    );
    const client = rawClient(proxy.port);
    client.socket.write(UPGRADE + SMUGGLED);
    await waitFor(() => client.text().includes('deny-admin'), 3000);
    client.socket.destroy();
    const got = client.text();
    assert.match(got, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.match(got, /\r\nTransfer-Encoding: chunked\r\n/);
    assert.match(got, /\r\n\r\n4\r\nnope\r\n0\r\n\r\nHTTP\/1\.1 403 Forbidden\r\n/);
    assert.equal(backend.received.length, 1);
    assert.doesNotMatch(backend.received.join(''), /admin|ceo@corp/);
  });

  test('over https the connection given back stays TLS, and the next request meets the rules', async () => {
    const backend = await startRawBackend(
      afterHead('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno'),
    );
    backends.push(backend);
    const pair = await makeCertificate('x.example.com', ['x.example.com']);
    const proxy = await startProxy({
      protocol: 'https',
      pool: makePool('raw', [backend.address]),
      tls: { certificates: [{ name: 'x', ...pair }] },
      rules: [
        {
          name: 'deny-admin',
          when: { path_prefix: '/admin' },
          request: [{ deny: { status: 403 } }],
        },
      ],
    });
    proxies.push(proxy);
    const socket = tls.connect({
      port: proxy.port,
      host: '127.0.0.1',
      servername: 'x.example.com',
      ca: pair.cert,
      ALPNProtocols: ['http/1.1'],
    });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined);
    socket.write(UPGRADE + SMUGGLED);
    try {
      await waitFor(() => text.includes('deny-admin'), 3000);
    } finally {
      socket.destroy();
    }
    assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\n[^]*\r\n\r\nnoHTTP\/1\.1 403 Forbidden\r\n/);
    assert.equal(backend.received.length, 1);
    assert.doesNotMatch(backend.received.join(''), /admin|ceo@corp/);
  });

  test('a refused upgrade closes the connection when the client asked to close', async () => {
    const { backend, proxy } = await setUp('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const client = rawClient(proxy.port);
    client.socket.write(
      `GET /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\nUpgrade: anything\r\n\r\n${SMUGGLED}`,
    );
    const got = await client.closed;
    assert.match(got, /\r\nConnection: close\r\n/);
    assert.ok(got.endsWith('\r\n\r\nok'), got);
    assert.doesNotMatch(backend.received.join(''), /admin/);
  });

  test('a refused upgrade answered while the server drains closes the connection', async () => {
    const backend = await startRawBackend((received) =>
      received.endsWith('\r\n\r\n!') ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' : undefined,
    );
    backends.push(backend);
    const proxy = await startProxy({ pool: makePool('raw', [backend.address]) });
    const client = rawClient(proxy.port);
    client.socket.write(
      'POST /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: anything\r\nContent-Length: 1\r\n\r\n',
    );
    await waitFor(() => backend.received.length === 1, 3000);
    const closing = proxy.close();
    client.socket.write('!');
    const got = await client.closed;
    await closing;
    assert.match(got, /\r\nConnection: close\r\n/);
    assert.ok(got.endsWith('\r\n\r\nok'), got);
  });

  test('a body delimited by the node closing reaches the client whole', async () => {
    const { proxy } = await setUp((received) => {
      if (!received.includes('\r\n\r\n')) return undefined;
      return 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end';
    });
    // The raw backend does not close by itself: this one ends after its answer.
    const backend = backends.at(-1) as RawBackend;
    const client = rawClient(proxy.port);
    client.socket.write(UPGRADE);
    await waitFor(() => backend.received.length === 1 && client.text().includes('until'), 3000);
    await backends.pop()?.close();
    const got = await client.closed;
    assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(got, /\r\nTransfer-Encoding: chunked\r\n/);
    assert.ok(got.endsWith('\r\n\r\nd\r\nuntil the end\r\n0\r\n\r\n'), got);
  });

  test("the request's declared body goes to the node, what follows it is the next request", async () => {
    const { backend, proxy } = await setUp((received) =>
      received.endsWith('\r\n\r\nbody!')
        ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'
        : undefined,
    );
    const client = rawClient(proxy.port);
    client.socket.write(
      `POST /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: anything\r\nContent-Length: 5\r\n\r\nbody!${SMUGGLED}`,
    );
    await waitFor(() => client.text().includes('deny-admin'), 3000);
    client.socket.destroy();
    assert.match(client.text(), /\r\n\r\nokHTTP\/1\.1 403 /);
    assert.ok((backend.received[0] as string).endsWith('\r\n\r\nbody!'));
    assert.doesNotMatch(backend.received.join(''), /admin/);
  });

  test('an answer before the whole request body arrived closes the connection: the rest is never parsed as a request', async () => {
    const { backend, proxy } = await setUp(
      afterHead('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno'),
    );
    const client = rawClient(proxy.port);
    client.socket.write(
      'POST /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: anything\r\nContent-Length: 100\r\n\r\nabc',
    );
    await waitFor(() => client.text().endsWith('no'), 3000);
    client.socket.write(SMUGGLED);
    const got = await client.closed;
    assert.match(got, /\r\nConnection: close\r\n/);
    assert.equal((got.match(/HTTP\/1\.1/g) ?? []).length, 1, got);
    assert.doesNotMatch(backend.received.join(''), /admin/);
  });

  test('a 101 without an Upgrade field gets 502 and nothing more reaches the node', async () => {
    const { backend, proxy } = await setUp(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n',
    );
    const client = rawClient(proxy.port);
    client.socket.write(UPGRADE + SMUGGLED);
    const got = await client.closed;
    assert.match(got, /^HTTP\/1\.1 502 /);
    assert.match(got, /X-Postern-Error: POSTERN_ERR_UPSTREAM_PROTOCOL/);
    assert.match(got, /without an Upgrade header field/);
    assert.doesNotMatch(backend.received.join(''), /admin/);
  });

  test('a 101 to a protocol the client did not ask for gets 502', async () => {
    const { proxy } = await setUp(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n',
    );
    const client = rawClient(proxy.port);
    client.socket.write(UPGRADE);
    const got = await client.closed;
    assert.match(got, /^HTTP\/1\.1 502 /);
    assert.match(got, /"h2c", which the client did not ask for/);
  });

  test('an answer with bare LF line ends gets 502 at once', async () => {
    const { proxy } = await setUp('HTTP/1.1 200 OK\nContent-Length: 2\n\nok');
    const client = rawClient(proxy.port);
    client.socket.write(UPGRADE);
    const got = await client.closed;
    assert.match(got, /^HTTP\/1\.1 502 /);
    assert.match(got, /bare LF line ending/);
  });

  test('an Upgrade request with a chunked body gets 400 and reaches no node', async () => {
    const { backend, proxy } = await setUp('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    const client = rawClient(proxy.port);
    client.socket.write(
      'POST /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    const got = await client.closed;
    assert.match(got, /^HTTP\/1\.1 400 /);
    assert.match(got, /Upgrade request with a chunked body/);
    assert.equal(backend.received.length, 0);
  });

  test('behind an access gate, the request after a refused upgrade is checked by the gate too', async () => {
    const backend = await startRawBackend(
      afterHead('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
    );
    const checked: string[] = [];
    const gate: AccessGate = {
      check: (request) => {
        checked.push(request.target);
        return Promise.resolve({
          allow: true,
          remove: ['x-postern-user'],
          headers: { 'X-Postern-User': 'alice' },
        });
      },
    };
    const proxy = await startProxy({ pool: makePool('raw', [backend.address]), gate });
    backends.push(backend);
    proxies.push(proxy);
    const client = rawClient(proxy.port);
    client.socket.write(UPGRADE + SMUGGLED);
    const answered = (): number => (client.text().match(/HTTP\/1\.1 200 OK/g) ?? []).length;
    await waitFor(() => answered() === 2 && client.text().endsWith('ok'), 3000);
    client.socket.destroy();
    assert.deepEqual(checked, ['/app', '/admin/secret']);
    assert.match(backend.received[0] as string, /^GET \/app [^]*X-Postern-User: alice/);
    assert.match(backend.received[1] as string, /^GET \/admin\/secret [^]*X-Postern-User: alice/);
    assert.doesNotMatch(backend.received.join(''), /ceo@corp/);
  });

  test('an h2c-only Upgrade is served as a plain request: no Upgrade reaches the node, the connection stays HTTP', async () => {
    const { backend, proxy } = await setUp('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const client = rawClient(proxy.port);
    client.socket.write(
      'GET /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    );
    await waitFor(() => client.text().endsWith('ok'), 3000);
    assert.doesNotMatch(client.text(), /Connection: close/);
    // The connection is still parsed: the next request meets the rules.
    client.socket.write('GET /admin/secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const got = await client.closed;
    assert.match(got, /\r\n\r\nokHTTP\/1\.1 403 /);
    assert.equal(backend.received.length, 1);
    assert.doesNotMatch(backend.received[0] as string, /upgrade|h2c|http2-settings/i);
    await waitFor(() => proxy.records.some((r) => r.path === '/app'));
    assert.equal(proxy.records.find((r) => r.path === '/app')?.upgrade, false);
  });

  test('h2c is left out of an Upgrade that names other protocols too', async () => {
    const { backend, proxy } = await setUp('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const client = rawClient(proxy.port);
    client.socket.write(
      'GET /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c, websocket\r\n\r\n',
    );
    await waitFor(() => client.text().endsWith('ok'), 3000);
    client.socket.destroy();
    assert.match(backend.received[0] as string, /\r\nUpgrade: websocket\r\n/);
  });

  test('bytes sent before the 101 arrives reach the node after it', async () => {
    const { backend, proxy } = await setUp(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: Anything/2\r\n\r\nfrom-node',
    );
    const client = rawClient(proxy.port);
    client.socket.write(`${UPGRADE}early-bytes`);
    await waitFor(() => (backend.received[0] ?? '').endsWith('early-bytes'), 3000);
    await waitFor(() => client.text().endsWith('from-node'), 3000);
    assert.match(client.text(), /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    client.socket.destroy();
    await waitFor(() => proxy.records.some((r) => r.status === 101));
  });
});
