import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { makeCertificate, type TestKeyPair } from '../tls/test-certificates.js';
import type { HttpRequestRecord, HttpVirtualServerOptions } from './http-options.js';
import { HttpVirtualServer } from './http-virtual-server.js';
import { Pool } from '../pool.js';
import { makePool, startBackend, waitFor, type Backend } from './test-kit.js';

/** Connects with TLS and returns the negotiated protocol, ALPN and the certificate's SANs. */
function handshake(
  port: number,
  options: tls.ConnectionOptions,
): Promise<{ alpn: string | false | null; san: string; cn: string; version: string | null }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, rejectUnauthorized: false, ...options },
      () => {
        const cert = socket.getPeerCertificate();
        resolve({
          alpn: socket.alpnProtocol,
          san: cert.subjectaltname ?? '',
          cn: String(cert.subject?.CN),
          version: socket.getProtocol(),
        });
        socket.destroy();
      },
    );
    socket.on('error', reject);
  });
}

describe('https virtual server', () => {
  let backend: Backend;
  let main: TestKeyPair;
  let api: TestKeyPair;
  let vs: HttpVirtualServer;
  let port: number;
  const records: HttpRequestRecord[] = [];

  const options = (extra: Partial<HttpVirtualServerOptions> = {}): HttpVirtualServerOptions => ({
    name: 'secure',
    protocol: 'https',
    listen: { host: '127.0.0.1', port: 0 },
    pool: makePool('web', [backend.address]),
    dialer: new DirectDialer(),
    tls: {
      certificates: [
        { name: 'main', ...main },
        { name: 'api', ...api },
      ],
    },
    onRequestEnd: (r) => records.push(r.record()),
    ...extra,
  });

  before(async () => {
    backend = await startBackend('secure', (req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () =>
        res.end(
          JSON.stringify({
            proto: req.headers['x-forwarded-proto'],
            host: req.headers.host,
            n,
            v: req.httpVersion,
          }),
        ),
      );
    });
    main = await makeCertificate('main.example.com', ['main.example.com', '*.main.example.com']);
    api = await makeCertificate('api.example.com', ['api.example.com']);
    vs = new HttpVirtualServer(options());
    await vs.start();
    port = vs.address().port;
  });

  after(async () => {
    await vs.close({ drainTimeoutMs: 500 });
    await backend.close();
  });

  test('serves the certificate whose SAN matches the SNI name, the first one otherwise', async () => {
    const forApi = await handshake(port, { servername: 'api.example.com' });
    assert.equal(forApi.cn, 'api.example.com');
    assert.match(forApi.san, /DNS:api\.example\.com/);
    const forWildcard = await handshake(port, { servername: 'shop.main.example.com' });
    assert.equal(forWildcard.cn, 'main.example.com');
    const unknown = await handshake(port, { servername: 'nobody.test' });
    assert.equal(unknown.cn, 'main.example.com');
  });

  test('offers h2 and http/1.1 by ALPN and accepts TLS 1.2 and 1.3', async () => {
    assert.equal((await handshake(port, { ALPNProtocols: ['h2', 'http/1.1'] })).alpn, 'h2');
    assert.equal((await handshake(port, { ALPNProtocols: ['http/1.1'] })).alpn, 'http/1.1');
    assert.equal((await handshake(port, { maxVersion: 'TLSv1.2' })).version, 'TLSv1.2');
    assert.equal((await handshake(port, {})).version, 'TLSv1.3');
  });

  test('proxies HTTP/1.1 over TLS with X-Forwarded-Proto https', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port,
            servername: 'api.example.com',
            headers: { host: 'api.example.com' },
            rejectUnauthorized: false,
          },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve(text));
          },
        )
        .on('error', reject);
    });
    assert.deepEqual(JSON.parse(body), { proto: 'https', host: 'api.example.com', n: 0, v: '1.1' });
  });

  test('proxies HTTP/2 clients to the HTTP/1.1 upstream, bodies included', async () => {
    const session = http2.connect(`https://127.0.0.1:${port}`, {
      rejectUnauthorized: false,
      servername: 'main.example.com',
    });
    try {
      const call = (method: string, body?: Buffer): Promise<{ status: number; text: string }> =>
        new Promise((resolve, reject) => {
          const stream = session.request({
            ':method': method,
            ':path': '/h2',
            ':authority': 'main.example.com',
          });
          let status = 0;
          let text = '';
          stream.on('response', (h) => (status = Number(h[':status'])));
          stream.on('data', (c: Buffer) => (text += c.toString()));
          stream.on('end', () => resolve({ status, text }));
          stream.on('error', reject);
          stream.end(body);
        });
      const get = await call('GET');
      assert.equal(get.status, 200);
      assert.deepEqual(JSON.parse(get.text), {
        proto: 'https',
        host: 'main.example.com',
        n: 0,
        v: '1.1',
      });
      const posts = await Promise.all(
        [1, 2, 3].map((i) => call('POST', Buffer.alloc(100_000 * i, i))),
      );
      assert.deepEqual(
        posts.map((p) => (JSON.parse(p.text) as { n: number }).n),
        [100_000, 200_000, 300_000],
      );
      await waitFor(() => records.filter((r) => r.protocol === 'h2').length >= 4);
      assert.equal(records.find((r) => r.protocol === 'h2')?.host, 'main.example.com');
    } finally {
      session.close();
    }
  });

  test('an access gate reads a bounded request body from HTTP/2 and HTTP/1.1 clients', async () => {
    const gated = new HttpVirtualServer(
      options({
        name: 'gated',
        gate: {
          async check(request) {
            const body = await request.readBody?.(1024);
            const text = body === undefined ? 'too long' : `read ${body.toString()}`;
            return { respond: { status: 200, headers: {}, body: text } };
          },
        },
      }),
    );
    await gated.start();
    const gatedPort = gated.address().port;
    const session = http2.connect(`https://127.0.0.1:${gatedPort}`, { rejectUnauthorized: false });
    try {
      const h2Post = (body: Buffer): Promise<string> =>
        new Promise((resolve, reject) => {
          const stream = session.request({ ':method': 'POST', ':path': '/form' });
          let text = '';
          stream.on('data', (c: Buffer) => (text += c.toString()));
          stream.on('end', () => resolve(text));
          stream.on('error', reject);
          stream.end(body);
        });
      const h1Post = (body: Buffer): Promise<string> =>
        new Promise((resolve, reject) => {
          const req = https.request(
            {
              host: '127.0.0.1',
              port: gatedPort,
              method: 'POST',
              path: '/form',
              rejectUnauthorized: false,
            },
            (res) => {
              let text = '';
              res.on('data', (c: Buffer) => (text += c.toString()));
              res.on('end', () => resolve(text));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      assert.equal(await h2Post(Buffer.from('a=1&b=2')), 'read a=1&b=2');
      assert.equal(await h2Post(Buffer.alloc(5000, 97)), 'too long');
      assert.equal(await h1Post(Buffer.from('c=3')), 'read c=3');
      assert.equal(await h1Post(Buffer.alloc(5000, 97)), 'too long');
    } finally {
      session.close();
      await gated.close({ drainTimeoutMs: 500 });
    }
  });

  test('min_version TLSv1.3 refuses TLS 1.2 clients; alpn [http/1.1] never negotiates h2', async () => {
    const strict = new HttpVirtualServer(
      options({
        name: 'strict',
        tls: { certificates: [main], minVersion: 'TLSv1.3', alpn: ['http/1.1'] },
      }),
    );
    await strict.start();
    try {
      const p = strict.address().port;
      await assert.rejects(handshake(p, { maxVersion: 'TLSv1.2' }));
      const ok = await handshake(p, { ALPNProtocols: ['h2', 'http/1.1'] });
      assert.equal(ok.version, 'TLSv1.3');
      assert.equal(ok.alpn, 'http/1.1');
    } finally {
      await strict.close({ drainTimeoutMs: 100 });
    }
  });

  test('an https virtual server without certificates is refused, also on reconfigure', () => {
    assert.throws(
      () => vs.reconfigure(options({ tls: { certificates: [] } })),
      /POSTERN_ERR_TLS_NO_CERTIFICATE|no certificate/,
    );
    assert.throws(
      () => new HttpVirtualServer(options({ tls: { certificates: [] } })),
      /POSTERN_ERR_TLS_NO_CERTIFICATE|no certificate/,
    );
  });

  test('reconfigure swaps certificates for new connections without re-binding', async () => {
    const fresh = await makeCertificate('fresh.example.com', ['fresh.example.com']);
    const before = vs.address();
    vs.reconfigure(options({ tls: { certificates: [{ name: 'fresh', ...fresh }] } }));
    try {
      assert.deepEqual(vs.address(), before);
      assert.equal(
        (await handshake(port, { servername: 'api.example.com' })).cn,
        'fresh.example.com',
      );
      assert.equal((await handshake(port, {})).cn, 'fresh.example.com');
    } finally {
      vs.reconfigure(options());
    }
  });
});

describe('https virtual server limits and timeouts over HTTP/2', () => {
  let backend: Backend;
  let cert: TestKeyPair;
  let vs: HttpVirtualServer;
  let session: http2.ClientHttp2Session;

  before(async () => {
    // /hang is never answered; anything else is.
    backend = await startBackend('h2-limits', (req, res) => {
      req.resume();
      if (req.url !== '/hang') res.end(`ok ${req.url}`);
    });
    cert = await makeCertificate('main.example.com', ['main.example.com']);
    vs = new HttpVirtualServer({
      name: 'h2-limits',
      protocol: 'https',
      listen: { host: '127.0.0.1', port: 0 },
      pool: makePool('web', [backend.address]),
      dialer: new DirectDialer(),
      tls: { certificates: [{ name: 'main', ...cert }] },
      limits: { maxHeaderBytes: 4096 },
      idleTimeoutMs: 400,
    });
    await vs.start();
    session = http2.connect(`https://127.0.0.1:${vs.address().port}`, {
      rejectUnauthorized: false,
      servername: 'main.example.com',
    });
  });

  after(async () => {
    session.close();
    await vs.close({ drainTimeoutMs: 500 });
    await backend.close();
  });

  const call = (
    path: string,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; error?: string; text: string }> =>
    new Promise((resolve, reject) => {
      const stream = session.request({ ':path': path, ':authority': 'main.example.com', ...extra });
      let status = 0;
      let error: string | undefined;
      let text = '';
      stream.on('response', (h) => {
        status = Number(h[':status']);
        error = h['x-postern-error'] as string | undefined;
      });
      stream.on('data', (c: Buffer) => (text += c.toString()));
      stream.on('end', () => resolve({ status, text, ...(error ? { error } : {}) }));
      stream.on('error', reject);
      stream.end();
    });

  test('a header section over max_header_bytes gets 431 at the edge, never the upstream', async () => {
    const before = backend.seen.length;
    const big = await call('/big', { 'x-big': 'a'.repeat(6000) });
    assert.equal(big.status, 431);
    assert.equal(big.error, 'POSTERN_ERR_HEADERS_TOO_LARGE');
    assert.equal(backend.seen.length, before, 'the upstream never saw it');
    const small = await call('/small', { 'x-small': 'a'.repeat(1000) });
    assert.deepEqual([small.status, small.text], [200, 'ok /small']);
  });

  test('an upstream that does not answer gets 504 on its stream; the session and its other streams go on', async () => {
    const [hung, other] = await Promise.all([call('/hang'), call('/other')]);
    assert.equal(hung.status, 504);
    assert.equal(hung.error, 'POSTERN_ERR_UPSTREAM_TIMEOUT');
    assert.deepEqual([other.status, other.text], [200, 'ok /other']);
    assert.equal(session.closed || session.destroyed, false, 'the session is still open');
    const after = await call('/after');
    assert.deepEqual([after.status, after.text], [200, 'ok /after']);
  });
});

test('over https the persistence cookie is Secure', async () => {
  const backend = await startBackend('sticky');
  const cert = await makeCertificate('main.example.com', ['main.example.com']);
  const pool = new Pool({
    name: 'sticky',
    nodes: [{ address: backend.address, weight: 1, state: 'active' }],
    persistence: { type: 'cookie', cookieName: 'AFFINITY' },
  });
  const vs = new HttpVirtualServer({
    name: 'sticky',
    protocol: 'https',
    listen: { host: '127.0.0.1', port: 0 },
    pool,
    dialer: new DirectDialer(),
    tls: { certificates: [{ name: 'main', ...cert }] },
  });
  await vs.start();
  try {
    const setCookie = await new Promise<string>((resolve, reject) => {
      https
        .get(
          { host: '127.0.0.1', port: vs.address().port, path: '/', rejectUnauthorized: false },
          (res) => {
            res.resume();
            resolve(res.headers['set-cookie']?.[0] ?? '');
          },
        )
        .on('error', reject);
    });
    assert.match(setCookie, /^AFFINITY=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
  } finally {
    await vs.close({ drainTimeoutMs: 0 });
    await backend.close();
  }
});
