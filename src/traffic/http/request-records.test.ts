import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { makeCertificate } from '../tls/test-certificates.js';
import type { AccessGate } from './access-gate.js';
import type { HttpErrorPage, HttpRequestRecord, HttpVirtualServerOptions } from './http-options.js';
import { HttpVirtualServer } from './http-virtual-server.js';
import {
  deadAddress,
  makePool,
  send,
  startBackend,
  startProxy,
  waitFor,
  type Backend,
  type Proxy,
} from './test-kit.js';

/** Sends raw bytes and resolves with what the proxy sent once it closes (bounded by 4 s). */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 4 s; got ${Buffer.concat(chunks).toString()}`));
    }, 4_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString());
    });
    socket.write(text);
  });
}

/** A header field's value in a raw HTTP/1.1 answer. */
function field(answer: string, name: string): string | undefined {
  const head = answer.slice(0, answer.indexOf('\r\n\r\n'));
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

function pages(statuses: readonly number[]): ReadonlyMap<number, HttpErrorPage> {
  return new Map(
    statuses.map((s) => [s, { body: `page ${s} id={request_id}`, contentType: 'text/plain' }]),
  );
}

/** Lets records that would come late (a second record of the same request) arrive. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

describe('every answer the edge writes is recorded once, with the id the client saw', () => {
  const proxies: Proxy[] = [];
  const backends: Backend[] = [];

  after(async () => {
    for (const p of proxies) await p.close();
    for (const b of backends) await b.close();
  });

  async function proxyWith(extra: Partial<HttpVirtualServerOptions>): Promise<Proxy> {
    const backend = await startBackend('records');
    backends.push(backend);
    const proxy = await startProxy({ pool: makePool('web', [backend.address]), ...extra });
    proxies.push(proxy);
    return proxy;
  }

  for (const c of [
    {
      what: 'a stalled body (408)',
      status: 408,
      code: 'POSTERN_ERR_REQUEST_TIMEOUT',
      raw: 'POST /up?token=s3cret HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab',
    },
    {
      what: 'a malformed chunked body (400)',
      status: 400,
      code: 'POSTERN_ERR_BAD_REQUEST',
      raw: 'POST /up?token=s3cret HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    },
  ]) {
    test(`HTTP/1.1: ${c.what} is one record of the request, with the id of the page`, async () => {
      const proxy = await proxyWith({ requestTimeoutMs: 300, errorPages: pages([c.status]) });
      const answer = await rawExchange(proxy.port, c.raw);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${c.status} `));
      const id = /page \d+ id=(\S+)$/.exec(answer)?.[1];
      assert.ok(id !== undefined, answer);
      assert.equal(field(answer, 'X-Request-Id'), id);
      await waitFor(() => proxy.records.length > 0);
      await settle();
      assert.equal(proxy.records.length, 1, JSON.stringify(proxy.records));
      const [r] = proxy.records as [HttpRequestRecord];
      assert.equal(r.requestId, id);
      assert.equal(r.status, c.status);
      assert.equal(r.closeReason, c.code);
      assert.equal(r.method, 'POST');
      assert.equal(r.path, '/up?token=REDACTED');
      assert.equal(r.pool, 'web');
      assert.equal(r.bytesOut, Buffer.byteLength(`page ${c.status} id=${id}`));
      await waitFor(() => proxy.vs.activeRequests === 0);
    });
  }

  test('access-gate answers are recorded with their status and what happened', async () => {
    const gate: AccessGate = {
      check: (request) => {
        const t = request.target;
        if (t === '/private')
          return Promise.resolve({
            respond: { status: 302, headers: { location: '/.postern/login' } },
          });
        if (t === '/forbidden') return Promise.resolve({ respond: { status: 403, body: 'no' } });
        if (t === '/busy') return Promise.resolve({ respond: { status: 429, body: 'wait' } });
        if (t === '/ws') return Promise.resolve({ respond: { status: 401, body: 'sign in' } });
        if (t === '/.postern/callback')
          return Promise.resolve({ respond: { status: 502, body: 'Login failed' } });
        if (t.startsWith('/.postern/'))
          return Promise.resolve({ respond: { status: 200, body: 'login page' } });
        return Promise.resolve({ allow: true });
      },
    };
    const proxy = await proxyWith({ gate });
    const paths = ['/private', '/forbidden', '/busy', '/.postern/login', '/.postern/callback'];
    for (const path of [...paths, '/open']) await send(proxy.port, { path });
    const upgrade = await rawExchange(
      proxy.port,
      'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    assert.match(upgrade, /^HTTP\/1\.1 401 /);
    await waitFor(() => proxy.records.length === 7);
    const by = (path: string): HttpRequestRecord | undefined =>
      proxy.records.find((r) => r.path === path);
    assert.deepEqual(
      [...paths, '/ws', '/open'].map((p) => [p, by(p)?.status, by(p)?.closeReason]),
      [
        ['/private', 302, 'login_required'],
        ['/forbidden', 403, 'access_denied'],
        ['/busy', 429, 'rate_limited'],
        ['/.postern/login', 200, 'access_gate'],
        ['/.postern/callback', 502, 'login_failed'],
        ['/ws', 401, 'login_required'],
        ['/open', 200, 'closed'],
      ],
    );
    assert.equal(by('/forbidden')?.bytesOut, 2);
    assert.equal(by('/forbidden')?.method, 'GET');
    assert.equal(by('/ws')?.upgrade, true);
    await waitFor(() => proxy.vs.activeRequests === 0);
  });

  test("the gate's own reason is recorded; without one the reason is inferred", async () => {
    const gate: AccessGate = {
      check: (request) => {
        const t = request.target;
        if (t === '/.postern/poll')
          return Promise.resolve({ respond: { status: 400, body: '{}' }, reason: 'login_pending' });
        if (t === '/.postern/out')
          return Promise.resolve({ respond: { status: 200, body: 'bye' }, reason: 'logged_out' });
        return Promise.resolve({ respond: { status: 400, body: 'bad' } });
      },
    };
    const proxy = await proxyWith({ gate });
    const paths = ['/.postern/poll', '/.postern/out', '/.postern/bad'];
    for (const path of paths) await send(proxy.port, { path });
    await waitFor(() => proxy.records.length === 3);
    assert.deepEqual(
      paths.map((p) => proxy.records.find((r) => r.path === p)?.closeReason),
      ['login_pending', 'logged_out', 'login_failed'],
    );
  });

  for (const upgrade of [false, true]) {
    test(`a client that leaves while the gate decides is recorded once as client_aborted${upgrade ? ' (Upgrade)' : ''}`, async () => {
      let asked!: () => void;
      const wasAsked = new Promise<void>((r) => (asked = r));
      let decide!: (verdict: { respond: { status: number; body: string } }) => void;
      const gate: AccessGate = {
        check: () => {
          asked();
          return new Promise((r) => (decide = r));
        },
      };
      const proxy = await proxyWith({ gate });
      const socket = net.connect(proxy.port, '127.0.0.1');
      socket.on('error', () => undefined);
      const extra = upgrade ? 'Connection: Upgrade\r\nUpgrade: websocket\r\n' : '';
      socket.write(`GET /slow HTTP/1.1\r\nHost: x\r\n${extra}\r\n`);
      await wasAsked;
      socket.destroy();
      await waitFor(() => proxy.records.length === 1);
      const [r] = proxy.records as [HttpRequestRecord];
      assert.deepEqual(
        [r.path, r.status, r.closeReason, r.upgrade, r.bytesOut],
        ['/slow', 0, 'client_aborted', upgrade, 0],
      );
      assert.equal(proxy.vs.activeRequests, 0);
      // The late verdict writes nothing and records nothing more.
      decide({ respond: { status: 403, body: 'no' } });
      await settle();
      assert.equal(proxy.records.length, 1, JSON.stringify(proxy.records));
      assert.equal(proxy.vs.activeRequests, 0);
    });
  }

  test('an Upgrade error answer counts its body in the record and has a Date field', async () => {
    const proxy = await proxyWith({});
    const answer = await rawExchange(
      proxy.port,
      'POST /app HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.ok(!Number.isNaN(Date.parse(field(answer, 'Date') ?? '')), answer);
    await waitFor(() => proxy.records.length === 1);
    const [r] = proxy.records as [HttpRequestRecord];
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    assert.ok(body.length > 0);
    assert.equal(r.bytesOut, Buffer.byteLength(body));
    assert.equal(r.requestId, field(answer, 'X-Request-Id'));
  });

  test('requests refused at the head record the method and redacted path that were parsed', async () => {
    const proxy = await proxyWith({ limits: { maxHeaderBytes: 1024, maxHeaders: 50 } });
    const heads = [
      ['TRACE /t?token=abc HTTP/1.1\r\nHost: x\r\n\r\n', 405, 'TRACE', '/t?token=REDACTED'],
      [`GET /big HTTP/1.1\r\nHost: x\r\nX: ${'b'.repeat(2048)}\r\n\r\n`, 431, 'GET', '/big'],
      ['GET /h HTTP/1.1\r\nHost: bad host!\r\n\r\n', 400, 'GET', '/h'],
    ] as const;
    for (const [raw, status, method, path] of heads) {
      const answer = await rawExchange(proxy.port, raw);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `));
      const id = field(answer, 'X-Request-Id');
      await waitFor(() => proxy.records.some((r) => r.requestId === id));
      const r = proxy.records.find((x) => x.requestId === id);
      assert.deepEqual([r?.status, r?.method, r?.path], [status, method, path]);
    }
  });

  test('a HEAD error answer has no body but gives the id in X-Request-Id, the id of its record', async () => {
    const proxy = await startProxy({ pool: makePool('dead', [await deadAddress()]), retries: 0 });
    proxies.push(proxy);
    const res = await send(proxy.port, { method: 'HEAD' });
    assert.equal(res.status, 502);
    assert.equal(res.body.length, 0);
    const id = res.headers['x-request-id'];
    assert.match(String(id), /^[0-9a-f-]{36}$/);
    await waitFor(() => proxy.records.length === 1);
    assert.equal(proxy.records[0]?.requestId, id);
  });
});

describe(
  'HTTP/2: a stalled body gets the virtual server\'s "408" page with the id of its record',
  { timeout: 30_000 },
  () => {
    test("the 408 goes through the error page and carries the record's id", async () => {
      const cert = await makeCertificate('main.example.com', ['main.example.com']);
      const backend = await startBackend('h2', (req, res) => {
        req.resume();
        req.on('end', () => res.end('done'));
      });
      const records: HttpRequestRecord[] = [];
      const vs = new HttpVirtualServer({
        name: 'secure',
        protocol: 'https',
        listen: { host: '127.0.0.1', port: 0 },
        pool: makePool('web', [backend.address]),
        dialer: new DirectDialer(),
        tls: { certificates: [{ name: 'main', ...cert }] },
        requestTimeoutMs: 300,
        errorPages: pages([408]),
        onRequestEnd: (r) => records.push(r.record()),
      });
      await vs.start();
      const session = http2.connect(`https://127.0.0.1:${vs.address().port}`, {
        rejectUnauthorized: false,
        servername: 'main.example.com',
      });
      session.on('error', () => undefined);
      try {
        const got = await new Promise<{ status: number; id: unknown; text: string }>((resolve) => {
          const stream = session.request(
            { ':method': 'POST', ':path': '/up', ':authority': 'main.example.com' },
            { endStream: false },
          );
          let status = 0;
          let id: unknown;
          let text = '';
          stream.on('response', (h) => {
            status = Number(h[':status']);
            id = h['x-request-id'];
          });
          stream.on('data', (c: Buffer) => (text += c.toString()));
          stream.on('error', () => undefined);
          const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 5_000);
          stream.on('close', () => {
            clearTimeout(timer);
            resolve({ status, id, text });
          });
          stream.write('abc');
        });
        assert.equal(got.status, 408);
        assert.equal(got.text, `page 408 id=${String(got.id)}`);
        await waitFor(() => records.length === 1);
        await settle();
        assert.equal(records.length, 1);
        assert.equal(records[0]?.requestId, got.id);
        assert.equal(records[0]?.status, 408);
        assert.equal(records[0]?.closeReason, 'POSTERN_ERR_REQUEST_TIMEOUT');
        assert.equal(records[0]?.bytesOut, Buffer.byteLength(got.text));
      } finally {
        session.destroy();
        await vs.close({ drainTimeoutMs: 200 });
        await backend.close();
      }
    });
  },
);
