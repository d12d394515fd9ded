import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { makePool, startBackend, startProxy, type Backend, type Proxy } from './test-kit.js';

/** A raw connection: writes `parts` `gapMs` apart, collects what comes back until close or `ms`. */
function rawSession(
  port: number,
  parts: readonly string[],
  o: { gapMs?: number; ms?: number } = {},
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, o.ms ?? 3_000);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    const queue = [...parts];
    const next = (): void => {
      const part = queue.shift();
      if (part === undefined || socket.destroyed) return;
      socket.write(part);
      setTimeout(next, o.gapMs ?? 0);
    };
    next();
  });
}

describe('HTTP/1.1 client timeouts: body reads and keep-alive off', () => {
  let backend: Backend;
  let proxy: Proxy;
  let noKeepAlive: Proxy;

  before(async () => {
    backend = await startBackend('timeouts', (req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(`got ${n}`));
    });
    proxy = await startProxy({
      pool: makePool('timeouts', [backend.address]),
      requestTimeoutMs: 300,
    });
    noKeepAlive = await startProxy({
      pool: makePool('timeouts', [backend.address]),
      keepaliveTimeoutMs: 0,
      idleTimeoutMs: 60_000,
    });
  });

  after(async () => {
    await proxy.close();
    await noKeepAlive.close();
    await backend.close();
  });

  test('an upload that keeps flowing longer than request_timeout_ms is not cut', async () => {
    const head =
      'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n';
    const parts = [head, ...Array.from({ length: 10 }, () => 'y'.repeat(100))];
    const started = Date.now();
    const got = await rawSession(proxy.port, parts, { gapMs: 120, ms: 4_000 });
    assert.ok(Date.now() - started >= 1_000, 'the upload took longer than the timeout');
    assert.match(got.text, /^HTTP\/1\.1 200 /);
    assert.match(got.text, /got 1000$/);
  });

  test('a body whose reads stop for request_timeout_ms still gets 408', async () => {
    const head = 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n';
    // Flows for longer than the timeout, then stalls.
    const parts = [head, ...Array.from({ length: 5 }, () => 'y'.repeat(100))];
    const got = await rawSession(proxy.port, parts, { gapMs: 120, ms: 4_000 });
    assert.equal(got.closed, true);
    assert.match(got.text, /^HTTP\/1\.1 408 /);
  });

  test('keepalive_timeout_ms 0: each response says Connection: close and the connection closes', async () => {
    const got = await rawSession(noKeepAlive.port, ['GET /k HTTP/1.1\r\nHost: x\r\n\r\n'], {
      ms: 3_000,
    });
    assert.equal(got.closed, true, `still open; got ${JSON.stringify(got.text)}`);
    assert.match(got.text, /^HTTP\/1\.1 200 /);
    assert.match(got.text, /\r\nConnection: close\r\n/i);
  });
});
