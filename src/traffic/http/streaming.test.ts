import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { makePool, startBackend, startProxy, type Backend, type Proxy } from './test-kit.js';

const MiB = 1024 * 1024;
const TOTAL = 32 * MiB;
const CHUNK = 256 * 1024;

/** Resolves when `p` does, or rejects after `ms` saying what did not happen. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Writes `total` random bytes to `out` with backpressure, hashing them; `afterFirst` gates the rest. */
async function pump(
  out: NodeJS.WritableStream,
  total: number,
  afterFirst: Promise<unknown>,
): Promise<string> {
  const hash = createHash('sha256');
  let sent = 0;
  while (sent < total) {
    const chunk = randomBytes(Math.min(CHUNK, total - sent));
    hash.update(chunk);
    sent += chunk.length;
    if (!out.write(chunk)) await once(out as unknown as NodeJS.EventEmitter, 'drain');
    if (sent === chunk.length)
      await within(afterFirst, 5000, 'the other side seeing the first bytes');
  }
  return hash.digest('hex');
}

describe('http virtual server streams bodies both ways', () => {
  let backend: Backend;
  let proxy: Proxy;
  let firstUploadBytes: () => void = () => undefined;
  let clientGotFirstBytes: Promise<unknown> = Promise.resolve();

  before(async () => {
    backend = await startBackend('stream', (req, res) => {
      if (req.method === 'POST') {
        const hash = createHash('sha256');
        let n = 0;
        req.on('data', (c: Buffer) => {
          if (n === 0) firstUploadBytes();
          n += c.length;
          hash.update(c);
        });
        req.on('end', () => res.end(JSON.stringify({ bytes: n, sha256: hash.digest('hex') })));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      void pump(res, TOTAL, clientGotFirstBytes).then((sha) => res.end(() => res.emit('sha', sha)));
    });
    proxy = await startProxy({ pool: makePool('stream', [backend.address]) });
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  for (const framing of ['chunked', 'content-length'] as const) {
    test(`uploads 32 MiB (${framing}) intact, and the backend sees the first bytes before the client finished`, async () => {
      const seen = new Promise<void>((resolve) => (firstUploadBytes = resolve));
      const headers: http.OutgoingHttpHeaders =
        framing === 'content-length' ? { 'content-length': TOTAL } : {};
      const req = http.request({
        host: '127.0.0.1',
        port: proxy.port,
        method: 'POST',
        path: '/up',
        headers,
      });
      const response = new Promise<http.IncomingMessage>((resolve, reject) => {
        req.on('response', resolve);
        req.on('error', reject);
      });
      const sent = await pump(req, TOTAL, seen);
      req.end();
      const res = await within(response, 20_000, 'the upload response');
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        bytes: number;
        sha256: string;
      };
      assert.equal(res.statusCode, 200);
      assert.equal(body.bytes, TOTAL);
      assert.equal(body.sha256, sent);
    });
  }

  test('downloads 32 MiB intact, and the client sees the first bytes before the backend finished', async () => {
    let gotFirst: () => void = () => undefined;
    clientGotFirstBytes = new Promise<void>((resolve) => (gotFirst = resolve));
    const backendSha = new Promise<string>((resolve) => {
      backend.server.once('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
        res.once('sha', resolve);
      });
    });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get({ host: '127.0.0.1', port: proxy.port, path: '/down' }, resolve).on('error', reject),
    );
    const hash = createHash('sha256');
    let n = 0;
    for await (const c of res) {
      if (n === 0) gotFirst();
      n += (c as Buffer).length;
      hash.update(c as Buffer);
    }
    assert.equal(n, TOTAL);
    assert.equal(hash.digest('hex'), await within(backendSha, 5000, 'the backend finishing'));
    assert.equal(res.headers['transfer-encoding'], 'chunked');
  });

  test('a client that stops reading stops the backend too (nothing buffers the whole body)', async () => {
    const big = 96 * MiB;
    let written = 0;
    let stalled: () => void = () => undefined;
    const stall = new Promise<void>((resolve) => (stalled = resolve));
    const slow = await startBackend('slow', (_req, res) => {
      const chunk = Buffer.alloc(CHUNK, 7);
      const write = (): void => {
        while (written < big) {
          written += chunk.length;
          if (!res.write(chunk)) {
            const before = written;
            // No drain for 300 ms while the client is paused means the whole path is full.
            const timer = setTimeout(() => before === written && stalled(), 300);
            res.once('drain', () => {
              clearTimeout(timer);
              write();
            });
            return;
          }
        }
        res.end();
      };
      write();
    });
    const p = await startProxy({ pool: makePool('slow', [slow.address]) });
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get({ host: '127.0.0.1', port: p.port }, resolve).on('error', reject),
      );
      res.pause();
      await within(stall, 10_000, 'the backend stalling');
      assert.ok(
        written < 48 * MiB,
        `backend wrote ${written / MiB} MiB while the client read nothing`,
      );
      let n = 0;
      for await (const c of res) n += (c as Buffer).length;
      assert.equal(n, big);
    } finally {
      await p.close();
      await slow.close();
    }
  });

  test('an early response to a large upload keeps the client connection usable', async () => {
    // The backend answers at once and drops the body; the proxy stops forwarding it.
    const early = await startBackend('early', (req, res) => {
      req.resume();
      res.writeHead(413);
      res.end('too big');
    });
    const p = await startProxy({ pool: makePool('early', [early.address]) });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: p.port, method: 'POST', agent },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(Buffer.alloc(8 * MiB, 1));
      });
      assert.equal(big, 413);
      const next = await new Promise<number>((resolve, reject) =>
        http
          .get({ host: '127.0.0.1', port: p.port, agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject),
      );
      assert.equal(next, 413);
    } finally {
      agent.destroy();
      await p.close();
      await early.close();
    }
  });
});
