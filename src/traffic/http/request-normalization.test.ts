// S2, C2, P4, P5 of the security review against running virtual servers: path_prefix rules and
// routes hold for every spelling of a path, the node still gets the target as sent, invalid
// Host values and TRACE are refused, and HTTP/2 answers the header-count limit like HTTP/1.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { makeCertificate } from '../tls/test-certificates.js';
import type { HttpRule } from './rule-types.js';
import { HttpVirtualServer } from './http-virtual-server.js';
import { makePool, startBackend, startProxy, type Backend, type Proxy } from './test-kit.js';

/** The spellings of /admin that reached the node before paths were normalized. */
const ADMIN_SPELLINGS = [
  '/admin',
  '/%61dmin',
  '/./admin',
  '//admin',
  '/x/../admin',
  '/x/%2e%2e/admin',
  '/%2e/admin',
  '/%2Fadmin',
  '/adm%69n/x',
  '/x%5C..%5Cadmin',
  // Path parameters: Tomcat, Jetty and Spring map `/admin;x` to `/admin`.
  '/admin;x',
  '/admin;jsessionid=1/secret',
  '/x;y/../admin',
];
const API_SPELLINGS = [
  '/api/x',
  '/%61pi/x',
  '//api//x',
  '/q/../api/x',
  '/%2e/api/x',
  '/%2Fapi/x',
  '/api;v=1/x',
];

const RULES: HttpRule[] = [
  {
    name: 'deny-admin',
    when: { path_prefix: '/admin' },
    request: [{ deny: { status: 403, body: 'admin denied' } }],
  },
  {
    name: 'v2',
    when: { path_prefix: '/app' },
    request: [{ rewrite_path: { from: '/app', to: '/v2' } }],
  },
];

/** Sends raw bytes on a new connection and returns status and body (bounded in time). */
function raw(port: number, text: string, ms = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${ms} ms: ${Buffer.concat(chunks).toString()}`));
    }, ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks).toString('latin1');
      const split = all.indexOf('\r\n\r\n');
      resolve({ status: Number(all.slice(9, 12)), body: all.slice(split + 4) });
    });
    socket.write(text);
  });
}

const get = (port: number, target: string, host = 'a.test', method = 'GET') =>
  raw(port, `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

describe('normalized paths, Host and TRACE over HTTP/1.1', () => {
  let web: Backend;
  let api: Backend;
  let proxy: Proxy;

  before(async () => {
    web = await startBackend('web');
    api = await startBackend('api');
    proxy = await startProxy({
      pool: makePool('web', [web.address]),
      routes: [{ pathPrefix: '/api', pool: makePool('api', [api.address]), name: 'api' }],
      rules: RULES,
    });
  });

  after(async () => {
    await proxy.close();
    await Promise.all([web.close(), api.close()]);
  });

  test('a path_prefix deny holds for every spelling of the path', async () => {
    for (const target of ADMIN_SPELLINGS) {
      const res = await get(proxy.port, target);
      assert.deepEqual([res.status, res.body], [403, 'admin denied'], target);
    }
    assert.equal(web.seen.length + api.seen.length, 0, 'nothing reached a node');
  });

  test('a path_prefix route sends every spelling to its pool, with the target as sent', async () => {
    for (const target of API_SPELLINGS) {
      const res = await get(proxy.port, target);
      assert.deepEqual([res.status, res.body], [200, 'backend api'], target);
      assert.equal(api.seen.at(-1)?.url, target);
    }
  });

  test('legitimate paths still work and reach the node unchanged', async () => {
    assert.deepEqual(await get(proxy.port, '/files/a%20b'), { status: 200, body: 'backend web' });
    assert.equal(web.seen.at(-1)?.url, '/files/a%20b');
    assert.deepEqual(await get(proxy.port, '/api/v1/x?y=/admin'), {
      status: 200,
      body: 'backend api',
    });
    assert.equal(api.seen.at(-1)?.url, '/api/v1/x?y=/admin');
  });

  test('rewrite_path works on the normalized path and sends it %-encoded with the query', async () => {
    assert.equal((await get(proxy.port, '/%61pp/x%20y/./z?q=/a%20b')).status, 200);
    assert.equal(web.seen.at(-1)?.url, '/v2/x%20y/z?q=/a%20b');
    assert.equal((await get(proxy.port, '/app')).status, 200);
    assert.equal(web.seen.at(-1)?.url, '/v2');
  });

  test('targets that cannot be normalized get 400 with the reason', async () => {
    const before = web.seen.length;
    const cases: [string, RegExp][] = [
      ['/admin#x', /"#"/],
      ['/admin\\x', /"\\"/],
      ['/%zz', /malformed %-escape/],
      ['/a%00', /control character/],
      ['/../admin', /climbs above the root/],
    ];
    for (const [target, reason] of cases) {
      const res = await get(proxy.port, target);
      assert.equal(res.status, 400, target);
      assert.match(res.body, reason, target);
    }
    assert.equal(web.seen.length, before);
  });

  test('an invalid Host is refused with 400 and never forwarded', async () => {
    const before = web.seen.length + api.seen.length;
    for (const host of [
      'b.test x',
      'b.test/admin',
      'a@b.test',
      '',
      'b.test:80:90',
      '[a.test]',
      'a.test;',
    ]) {
      const res = await get(proxy.port, '/', host);
      assert.equal(res.status, 400, JSON.stringify(host));
      assert.match(res.body, /invalid Host/);
    }
    assert.equal(web.seen.length + api.seen.length, before);
  });

  test('TRACE is answered 405 with a text and never forwarded', async () => {
    const before = web.seen.length;
    const res = await raw(proxy.port, 'TRACE / HTTP/1.1\r\nHost: a.test\r\nCookie: s=1\r\n\r\n');
    assert.equal(res.status, 405);
    assert.match(res.body, /TRACE is not served/);
    assert.equal(web.seen.length, before);
  });
});

describe('normalized paths, :authority, TRACE and header count over HTTP/2', () => {
  let web: Backend;
  let api: Backend;
  let vs: HttpVirtualServer;
  let session: http2.ClientHttp2Session;

  before(async () => {
    web = await startBackend('web');
    api = await startBackend('api');
    const cert = await makeCertificate('a.test', ['a.test']);
    vs = new HttpVirtualServer({
      name: 'h2-norm',
      protocol: 'https',
      listen: { host: '127.0.0.1', port: 0 },
      pool: makePool('web', [web.address]),
      routes: [{ pathPrefix: '/api', pool: makePool('api', [api.address]), name: 'api' }],
      rules: RULES,
      dialer: new DirectDialer(),
      tls: { certificates: [{ name: 'main', ...cert }] },
    });
    await vs.start();
    session = http2.connect(`https://127.0.0.1:${vs.address().port}`, {
      rejectUnauthorized: false,
      servername: 'a.test',
    });
  });

  after(async () => {
    session.close();
    await vs.close({ drainTimeoutMs: 500 });
    await Promise.all([web.close(), api.close()]);
  });

  const call = (
    path: string,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; error: string | undefined; text: string }> =>
    new Promise((resolve, reject) => {
      const stream = session.request({ ':path': path, ':authority': 'a.test', ...extra });
      let status = 0;
      let error: string | undefined;
      let text = '';
      stream.on('response', (h) => {
        status = Number(h[':status']);
        error = h['x-postern-error'] as string | undefined;
      });
      stream.on('data', (c: Buffer) => (text += c.toString()));
      stream.on('end', () => resolve({ status, error, text }));
      stream.on('error', reject);
      stream.end();
    });

  test('a path_prefix deny holds for every spelling of the path', async () => {
    for (const path of ADMIN_SPELLINGS) {
      const res = await call(path);
      assert.deepEqual([res.status, res.text], [403, 'admin denied'], path);
    }
    assert.equal(web.seen.length + api.seen.length, 0, 'nothing reached a node');
  });

  test('a path_prefix route sends every spelling to its pool, with the target as sent', async () => {
    for (const path of API_SPELLINGS) {
      const res = await call(path);
      assert.deepEqual([res.status, res.text], [200, 'backend api'], path);
      assert.equal(api.seen.at(-1)?.url, path);
    }
  });

  test('targets that cannot be normalized, an invalid :authority and TRACE are refused', async () => {
    const before = web.seen.length;
    for (const path of ['/admin#x', '/admin\\x', '/%zz', '/../admin']) {
      const res = await call(path);
      assert.equal(res.status, 400, path);
      assert.match(res.text, /bad request target/, path);
    }
    for (const authority of ['b.test:80:90', 'a.test;', '[a.test]']) {
      const res = await call('/', { ':authority': authority });
      assert.equal(res.status, 400, authority);
      assert.match(res.text, /invalid Host/);
    }
    const trace = await call('/', { ':method': 'TRACE', cookie: 's=1' });
    assert.equal(trace.status, 405);
    assert.match(trace.text, /TRACE is not served/);
    assert.equal(web.seen.length, before);
  });

  test('more header fields than max_headers get 431 with the HTTP/1 error code', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 200; i++) many[`x-h${i}`] = 'v';
    const res = await call('/many', many);
    assert.equal(res.status, 431);
    assert.equal(res.error, 'POSTERN_ERR_TOO_MANY_HEADERS');
    assert.match(res.text, /more than 100 header fields/);
    assert.equal((await call('/few', { 'x-one': '1' })).status, 200);
  });
});
