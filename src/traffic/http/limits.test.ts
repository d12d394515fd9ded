import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  makePool,
  send,
  startBackend,
  startProxy,
  waitFor,
  type Backend,
  type Proxy,
} from './test-kit.js';

/** Sends raw bytes and reads until the proxy closes the connection (bounded by `ms`). */
function rawExchange(port: number, text: string, ms = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${ms} ms; got ${Buffer.concat(chunks).toString()}`));
    }, ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString());
    });
    socket.write(text);
  });
}

describe('http virtual server limits and client timeouts', () => {
  let backend: Backend;
  let proxy: Proxy;

  before(async () => {
    backend = await startBackend('limits');
    proxy = await startProxy({
      pool: makePool('limits', [backend.address]),
      limits: { maxHeaderBytes: 2048, maxHeaders: 10 },
      requestTimeoutMs: 300,
    });
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  test('a header section over max_header_bytes gets 431 saying which limit', async () => {
    const res = await send(proxy.port, { headers: { 'x-big': 'a'.repeat(4096) } });
    assert.equal(res.status, 431);
    assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_HEADERS_TOO_LARGE');
    assert.match(res.text, /larger than 2048 bytes.*max_header_bytes/);
    assert.equal(backend.seen.length, 0);
    await waitFor(() =>
      proxy.records.some((r) => r.closeReason === 'POSTERN_ERR_HEADERS_TOO_LARGE'),
    );
    assert.equal(proxy.records.find((r) => r.status === 431)?.client, '127.0.0.1');
  });

  test('more header fields than max_headers gets 431, exactly max_headers passes', async () => {
    const fields = (n: number): Record<string, string> =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, 'v']));
    // The client adds Host and Connection itself: 8 + 2 = 10 fields.
    const ok = await send(proxy.port, { headers: fields(8) });
    assert.equal(ok.status, 200);
    const res = await send(proxy.port, { headers: fields(9) });
    assert.equal(res.status, 431);
    assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_TOO_MANY_HEADERS');
    assert.match(res.text, /more than 10 header fields/);
    await waitFor(() => proxy.records.some((r) => r.status === 431));
  });

  test('a request whose headers do not arrive within request_timeout_ms gets 408', async () => {
    const text = await rawExchange(proxy.port, 'GET / HTTP/1.1\r\nHost: slow\r\n');
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(text, /X-Postern-Error: POSTERN_ERR_REQUEST_TIMEOUT/);
    assert.match(text, /did not arrive, or its body stalled, for 300 ms/);
  });

  test('a request body that stalls past request_timeout_ms gets 408 and the upstream is let go', async () => {
    const text = await rawExchange(
      proxy.port,
      'POST /upload HTTP/1.1\r\nHost: slow\r\nContent-Length: 100\r\n\r\nonly a few bytes',
    );
    assert.match(text, /^HTTP\/1\.1 408 /);
    await waitFor(() => proxy.vs.activeRequests === 0);
  });

  test('a request line over max_header_bytes gets 414 URI Too Long, complete or not', async () => {
    const seen = backend.seen.length;
    const line = `GET /${'a'.repeat(4096)} HTTP/1.1`;
    for (const text of [`${line}\r\nHost: x\r\n\r\n`, line]) {
      const got = await rawExchange(proxy.port, text);
      assert.match(got, /^HTTP\/1\.1 414 URI Too Long\r\n/);
      assert.match(got, /X-Postern-Error: POSTERN_ERR_URI_TOO_LONG/);
      assert.match(got, /request line is longer than 2048 bytes/);
    }
    // A short request line with large headers is still 431.
    const big = await rawExchange(proxy.port, `GET / HTTP/1.1\r\nX: ${'b'.repeat(4096)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
    assert.equal(backend.seen.length, seen);
  });

  test('a request head with bare LF line ends gets 400 at once, not 408 later', async () => {
    const heads = [
      'GET / HTTP/1.1\nHost: x\n\n',
      'GET / HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\n\n',
      'GET / HTTP/1.1\nHost: x\r\n\r\n',
    ];
    const before = backend.seen.length;
    for (const head of heads) {
      // 400 rather than request_timeout_ms's 408: the answer does not wait for more bytes.
      const got = await rawExchange(proxy.port, head);
      assert.match(got, /^HTTP\/1\.1 400 /, JSON.stringify(head));
      assert.match(got, /bare LF line ending in the request head/);
    }
    assert.equal(backend.seen.length, before);
    // An LF in a body is body, and a request after it on the connection is still read.
    const ok = await send(proxy.port, { method: 'POST', body: '\n\n\n' });
    assert.equal(ok.status, 200);
  });

  test('a malformed request line gets 400 POSTERN_ERR_BAD_REQUEST', async () => {
    const text = await rawExchange(proxy.port, 'GARBAGE\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.match(text, /POSTERN_ERR_BAD_REQUEST/);
  });
});
