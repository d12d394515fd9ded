import assert from 'node:assert/strict';
import { once } from 'node:events';
import type http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { makeCertificate, type TestKeyPair } from '../tls/test-certificates.js';
import type { HttpRequestRecord, HttpVirtualServerOptions } from './http-options.js';
import { HttpVirtualServer } from './http-virtual-server.js';
import { makePool, startBackend, waitFor, type Backend } from './test-kit.js';

/** Resolves with the ms until the server closes a raw TCP connection sent `bytes`; rejects after `ms`. */
function closedAfter(port: number, bytes: Buffer, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after ${ms} ms`));
    }, ms);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

/**
 * One HTTP/2 request; `chunks` of its body are written `gapMs` apart, and with `stall` the body
 * stops after them. A stream not closed within 5 s is cancelled (status 0).
 */
function h2Request(
  session: http2.ClientHttp2Session,
  o: { path: string; chunks?: readonly string[]; gapMs?: number; stall?: boolean },
): Promise<{ status: number; text: string; reset: number | undefined }> {
  return new Promise((resolve) => {
    const hasBody = o.chunks !== undefined;
    const stream = session.request(
      { ':method': hasBody ? 'POST' : 'GET', ':path': o.path, ':authority': 'main.example.com' },
      { endStream: !hasBody },
    );
    let status = 0;
    let text = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => (text += c.toString()));
    stream.on('error', () => undefined);
    const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 5_000);
    stream.on('close', () => {
      clearTimeout(timer);
      resolve({ status, text, reset: stream.rstCode });
    });
    const chunks = [...(o.chunks ?? [])];
    const next = (): void => {
      if (stream.closed) return;
      const chunk = chunks.shift();
      if (chunk !== undefined) {
        stream.write(chunk);
        setTimeout(next, o.gapMs ?? 0);
      } else if (!o.stall) stream.end();
    };
    if (hasBody) next();
  });
}

/** Options for events.once that reject after `ms`. */
function within(ms: number): { signal: AbortSignal } {
  return { signal: AbortSignal.timeout(ms) };
}

describe(
  'https virtual server: handshake, HTTP/2 streams and client timeouts',
  { timeout: 60_000 },
  () => {
    let backend: Backend;
    let cert: TestKeyPair;
    const servers: HttpVirtualServer[] = [];
    /** Responses the backend holds until released (path /hold). */
    const held: http.ServerResponse[] = [];

    async function start(extra: Partial<HttpVirtualServerOptions> = {}): Promise<number> {
      const vs = new HttpVirtualServer({
        name: 'secure',
        protocol: 'https',
        listen: { host: '127.0.0.1', port: 0 },
        pool: makePool('web', [backend.address]),
        dialer: new DirectDialer(),
        tls: { certificates: [{ name: 'main', ...cert }] },
        upstream: { maxIdlePerNode: 256 },
        ...extra,
      });
      servers.push(vs);
      await vs.start();
      return vs.address().port;
    }

    function connect(port: number): http2.ClientHttp2Session {
      const session = http2.connect(`https://127.0.0.1:${port}`, {
        rejectUnauthorized: false,
        servername: 'main.example.com',
      });
      session.on('error', () => undefined);
      return session;
    }

    before(async () => {
      cert = await makeCertificate('main.example.com', ['main.example.com']);
      backend = await startBackend('secure', (req, res) => {
        if (req.url === '/hold') {
          held.push(res);
          return;
        }
        if (req.url === '/early') {
          // Answers before the body is in, and keeps reading it.
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('early');
          req.resume();
          return;
        }
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => {
          const delay = req.url === '/slow' ? 600 : 0;
          setTimeout(() => res.end(`got ${n}`), delay);
        });
      });
    });

    after(async () => {
      for (const res of held) res.end();
      for (const vs of servers) await vs.close({ drainTimeoutMs: 200 });
      await backend.close();
    });

    test('a client that never finishes its TLS handshake is closed after the handshake timeout', async () => {
      const port = await start({ tlsHandshakeTimeoutMs: 300 });
      const silent = await closedAfter(port, Buffer.alloc(0), 3_000);
      assert.ok(silent >= 250, `silent client closed after ${silent} ms`);
      // Three bytes of a ClientHello record header, then nothing.
      const partial = await closedAfter(port, Buffer.from([0x16, 0x03, 0x01]), 3_000);
      assert.ok(partial >= 250, `partial ClientHello closed after ${partial} ms`);
      // A finished handshake is not bound by it: the connection waits for its request.
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
      await once(socket, 'secureConnect', within(2_000));
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(socket.destroyed || socket.readableEnded, false);
      socket.destroy();
    });

    test('HTTP/2 advertises 100 concurrent streams and a 101st waits for a free one', async () => {
      const port = await start();
      const session = connect(port);
      try {
        const [settings] = (await once(session, 'remoteSettings', within(2_000))) as [
          http2.Settings,
        ];
        assert.equal(settings.maxConcurrentStreams, 100);
        const base = held.length;
        const calls = Array.from({ length: 101 }, () => h2Request(session, { path: '/hold' }));
        await waitFor(() => held.length - base >= 100, 5_000);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(held.length - base, 100, 'streams in flight to the node at once');
        for (const res of held.splice(base, 100)) res.end('released');
        await waitFor(() => held.length - base === 1, 5_000);
        for (const res of held.splice(base, 1)) res.end('released');
        const done = await Promise.all(calls);
        assert.deepEqual(new Set(done.map((d) => d.status)), new Set([200]));
      } finally {
        session.destroy();
      }
    });

    test('HTTP/2: a session with no open stream gets GOAWAY after keepalive_timeout_ms, a busy one does not', async () => {
      const port = await start({ keepaliveTimeoutMs: 300 });
      const session = connect(port);
      try {
        // A stream that outlasts the keep-alive time keeps the session.
        const slow = await h2Request(session, { path: '/slow' });
        assert.equal(slow.status, 200);
        const idleFrom = Date.now();
        await once(session, 'goaway', within(3_000));
        const waited = Date.now() - idleFrom;
        assert.ok(waited >= 250 && waited < 2_000, `GOAWAY after ${waited} ms idle`);
        await waitFor(() => session.closed || session.destroyed, 2_000);
      } finally {
        session.destroy();
      }
    });

    test('HTTP/2: keepalive_timeout_ms 0 closes a session once its streams are done', async () => {
      const port = await start({ keepaliveTimeoutMs: 0 });
      const session = connect(port);
      try {
        const got = await h2Request(session, { path: '/' });
        assert.equal(got.status, 200);
        await once(session, 'goaway', within(3_000));
      } finally {
        session.destroy();
      }
    });

    test('HTTP/2: a stalled request body gets 408 on its stream, recorded as 408 request timeout; the session goes on', async () => {
      const records: HttpRequestRecord[] = [];
      const port = await start({
        requestTimeoutMs: 300,
        onRequestEnd: (r) => records.push(r.record()),
      });
      const session = connect(port);
      try {
        const started = Date.now();
        const stalled = await h2Request(session, { path: '/up', chunks: ['abc'], stall: true });
        const waited = Date.now() - started;
        assert.equal(stalled.status, 408);
        assert.match(stalled.text, /POSTERN_ERR_REQUEST_TIMEOUT/);
        assert.ok(waited >= 250 && waited < 2_500, `408 after ${waited} ms`);
        await waitFor(() => records.length === 1, 2_000);
        const [record] = records;
        assert.equal(record?.path, '/up');
        assert.equal(record.protocol, 'h2');
        assert.equal(record.status, 408);
        assert.equal(record.closeReason, 'POSTERN_ERR_REQUEST_TIMEOUT');
        assert.equal(record.bytesOut, Buffer.byteLength(stalled.text));
        const next = await h2Request(session, { path: '/' });
        assert.equal(next.status, 200);
        assert.equal(session.destroyed, false);
        await waitFor(() => records.length === 2, 2_000);
        assert.equal(records[1]?.status, 200);
        assert.equal(records[1].closeReason, 'closed');
      } finally {
        session.destroy();
      }
    });

    test('HTTP/2: a body that stalls after the response started resets the stream, recorded with the request timeout', async () => {
      const records: HttpRequestRecord[] = [];
      const port = await start({
        requestTimeoutMs: 300,
        onRequestEnd: (r) => records.push(r.record()),
      });
      const session = connect(port);
      try {
        const stalled = await h2Request(session, { path: '/early', chunks: ['abc'], stall: true });
        assert.equal(stalled.status, 200);
        assert.equal(stalled.reset, http2.constants.NGHTTP2_CANCEL);
        await waitFor(() => records.length === 1, 2_000);
        assert.equal(records[0]?.status, 200);
        assert.equal(records[0].closeReason, 'POSTERN_ERR_REQUEST_TIMEOUT');
      } finally {
        session.destroy();
      }
    });

    test('HTTP/2: a body that keeps flowing longer than request_timeout_ms is not cut', async () => {
      const port = await start({ requestTimeoutMs: 300 });
      const session = connect(port);
      try {
        const chunks = Array.from({ length: 10 }, () => 'x'.repeat(100));
        const got = await h2Request(session, { path: '/up', chunks, gapMs: 120 });
        assert.equal(got.status, 200);
        assert.equal(got.text, 'got 1000');
      } finally {
        session.destroy();
      }
    });
  },
);
