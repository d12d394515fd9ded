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
    assert.match(text, /not received completely within 300 ms/);
  });

  test('a request body that stalls past request_timeout_ms gets 408 and the upstream is let go', async () => {
    const text = await rawExchange(
      proxy.port,
      'POST /upload HTTP/1.1\r\nHost: slow\r\nContent-Length: 100\r\n\r\nonly a few bytes',
    );
    assert.match(text, /^HTTP\/1\.1 408 /);
    await waitFor(() => proxy.vs.activeRequests === 0);
  });

  test('a malformed request line gets 400 POSTERN_ERR_BAD_REQUEST', async () => {
    const text = await rawExchange(proxy.port, 'GARBAGE\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.match(text, /POSTERN_ERR_BAD_REQUEST/);
  });
});
