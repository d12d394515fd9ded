import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Pool } from '../pool.js';
import {
  makePool,
  send,
  startBackend,
  startProxy,
  waitFor,
  type Backend,
  type Proxy,
} from './test-kit.js';

describe('http virtual server routing and headers', () => {
  let web: Backend;
  let api: Backend;
  let wild: Backend;
  let proxy: Proxy;

  before(async () => {
    web = await startBackend('web');
    api = await startBackend('api');
    wild = await startBackend('wild');
    proxy = await startProxy({
      pool: makePool('web', [web.address]),
      routes: [
        {
          host: 'api.example.com',
          pathPrefix: '/v1',
          pool: makePool('api', [api.address]),
          name: 'api-v1',
        },
        { host: '*.example.org', pool: makePool('wild', [wild.address]) },
      ],
    });
  });

  after(async () => {
    await proxy.close();
    await Promise.all([web.close(), api.close(), wild.close()]);
  });

  test('routes by exact host and path prefix, by wildcard host, and falls back to the default pool', async () => {
    const cases: [string, string, string][] = [
      ['api.example.com', '/v1/users', 'backend api'],
      ['API.example.com:8080', '/v1', 'backend api'],
      ['api.example.com', '/v10', 'backend web'],
      ['api.example.com', '/v2/users', 'backend web'],
      ['a.b.example.org', '/anything', 'backend wild'],
      ['example.org', '/', 'backend web'],
      ['other.test', '/v1', 'backend web'],
    ];
    for (const [host, path, expected] of cases) {
      const res = await send(proxy.port, { path, headers: { host } });
      assert.equal(res.status, 200);
      assert.equal(res.text, expected, `${host}${path}`);
    }
    await waitFor(() => proxy.records.length >= cases.length);
    const first = proxy.records.find((r) => r.path === '/v1/users');
    assert.equal(first?.route, 'api-v1');
    assert.equal(first?.pool, 'api');
    assert.equal(first?.node, api.address);
    assert.equal(first?.status, 200);
    assert.equal(first?.closeReason, 'closed');
    assert.equal(proxy.records.find((r) => r.host === 'a.b.example.org')?.route, 'route-1');
  });

  test('replaces X-Forwarded-For with the client (default xForwardedFor: replace) and sets X-Forwarded-Proto and -Host', async () => {
    await send(proxy.port, {
      path: '/xff',
      headers: {
        host: 'shop.test:8080',
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'spoofed',
      },
    });
    const seen = web.seen.find((r) => r.url === '/xff');
    assert.equal(seen?.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen?.headers['x-forwarded-proto'], 'http');
    assert.equal(seen?.headers['x-forwarded-host'], 'shop.test:8080');
    assert.equal(seen?.headers.host, 'shop.test:8080');
  });

  test('removes hop-by-hop headers both ways, including those the Connection header names', async () => {
    const hop = await startBackend('hop', (_req, res) => {
      res.setHeader('Keep-Alive', 'timeout=99');
      res.setHeader('X-Private', 'secret');
      res.setHeader('Connection', 'X-Private');
      res.end('ok');
    });
    const p = await startProxy({ pool: makePool('hop', [hop.address]) });
    try {
      const res = await send(p.port, {
        headers: {
          Connection: 'close, X-Secret',
          'X-Secret': 'drop me',
          'X-Kept': 'yes',
          TE: 'trailers',
        },
      });
      assert.equal(res.status, 200);
      const seen = hop.seen[0];
      assert.equal(seen?.headers['x-secret'], undefined);
      assert.equal(seen?.headers.te, undefined);
      assert.equal(seen?.headers['x-kept'], 'yes');
      assert.notEqual(seen?.headers.connection, 'close');
      assert.equal(res.headers['x-private'], undefined);
      assert.notEqual(res.headers['keep-alive'], 'timeout=99');
    } finally {
      await p.close();
      await hop.close();
    }
  });

  test('reuses upstream keep-alive connections across requests', async () => {
    const b = await startBackend('ka');
    const p = await startProxy({ pool: makePool('ka', [b.address]) });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      for (let round = 0; round < 5; round++) {
        const all = await Promise.all(Array.from({ length: 4 }, () => send(p.port, { agent })));
        assert.ok(all.every((r) => r.status === 200));
      }
      for (let i = 0; i < 20; i++) assert.equal((await send(p.port)).status, 200);
      agent.destroy();
      assert.ok(b.connections <= 4, `backend saw ${b.connections} connections for 40 requests`);
      assert.equal(b.seen.length, 40);
      assert.equal(p.vs.upstreamConnections.dialed, b.connections);
    } finally {
      await p.close();
      await b.close();
    }
  });

  test('passes status, reason phrase, repeated headers and HEAD responses through', async () => {
    const b = await startBackend('misc', (req, res) => {
      res.statusMessage = 'Very Created';
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('Content-Length', '5');
      res.writeHead(201);
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    const p = await startProxy({ pool: makePool('misc', [b.address]) });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const head = await send(p.port, { method: 'HEAD', agent });
      assert.equal(head.status, 201);
      assert.equal(head.headers['content-length'], '5');
      assert.equal(head.body.length, 0);
      const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get({ port: p.port, host: '127.0.0.1', agent }, resolve).on('error', reject),
      );
      res.resume();
      assert.equal(res.statusMessage, 'Very Created');
      assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
      agent.destroy();
    } finally {
      await p.close();
      await b.close();
    }
  });

  test("cookie persistence: the pool's Set-Cookie reaches the client and its cookie pins the node", async () => {
    const one = await startBackend('one');
    const two = await startBackend('two');
    const pool = new Pool({
      name: 'sticky',
      nodes: [one.address, two.address].map((address) => ({
        address,
        weight: 1,
        state: 'active' as const,
      })),
      persistence: { type: 'cookie', cookieName: 'AFFINITY' },
    });
    const p = await startProxy({ pool });
    try {
      const first = await send(p.port);
      const setCookie = first.headers['set-cookie']?.[0] ?? '';
      assert.match(setCookie, /^AFFINITY=/);
      assert.doesNotMatch(setCookie, /Secure/, 'plain http: a Secure cookie would never come back');
      const cookie = setCookie.split(';')[0] ?? '';
      const pinned = await Promise.all(
        Array.from({ length: 6 }, () => send(p.port, { headers: { cookie: `x=1; ${cookie}` } })),
      );
      assert.deepEqual(new Set(pinned.map((r) => r.text)), new Set([first.text]));
      const free = await Promise.all(Array.from({ length: 6 }, () => send(p.port)));
      assert.equal(new Set(free.map((r) => r.text)).size, 2);
    } finally {
      await p.close();
      await Promise.all([one.close(), two.close()]);
    }
  });
});
