import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isPosternError } from '../../core/index.js';
import type { Rule } from '../../config/index.js';
import type { HttpRule } from './rule-types.js';
import { RulesEngine, rewritePrefix } from './rules-engine.js';
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

describe('rules engine', () => {
  test('accepts validated configuration rules as they are (a type-level check)', () => {
    const fromConfig: Rule = {
      name: 'cfg',
      when: { host: '*.example.com' },
      request: [{ deny: { status: 403, body: '' } }],
      response: [],
    };
    const asRule: HttpRule = fromConfig;
    const verdict = new RulesEngine([asRule]).applyRequest({
      method: 'GET',
      host: 'a.example.com',
      path: '/',
      headers: [],
    });
    assert.equal(verdict.reply?.body, 'Denied by rule "cfg".\n');
  });

  const request = (path = '/app/x', method = 'GET', host = 'www.example.com') => ({
    method,
    host,
    path,
    headers: ['Host', host, 'X-Debug', '1', 'Via', 'client'],
  });

  test('header actions set, append and remove in order', () => {
    const engine = new RulesEngine([
      {
        name: 'h',
        request: [
          { set_header: { name: 'X-Env', value: 'prod' } },
          { set_header: { name: 'x-env', value: 'staging' } },
          { append_header: { name: 'Via', value: 'postern' } },
          { remove_header: 'x-debug' },
        ],
      },
    ]);
    const req = request();
    const verdict = engine.applyRequest(req);
    assert.equal(verdict.reply, undefined);
    assert.deepEqual(req.headers, [
      'Host',
      'www.example.com',
      'Via',
      'client',
      'x-env',
      'staging',
      'Via',
      'postern',
    ]);
  });

  test('conditions on host, path prefix and method must all match', () => {
    const engine = new RulesEngine([
      {
        name: 'only',
        when: { host: '*.example.com', path_prefix: '/app', methods: ['GET', 'HEAD'] },
        request: [{ set_header: { name: 'X-Hit', value: 'yes' } }],
      },
    ]);
    const hit = (path: string, method: string, host: string): boolean => {
      const req = request(path, method, host);
      engine.applyRequest(req);
      return req.headers.includes('X-Hit');
    };
    assert.equal(hit('/app/x', 'GET', 'www.example.com'), true);
    assert.equal(hit('/app', 'HEAD', 'a.b.example.com'), true);
    assert.equal(hit('/app/x', 'POST', 'www.example.com'), false);
    assert.equal(hit('/apple', 'GET', 'www.example.com'), false);
    assert.equal(hit('/app/x', 'GET', 'example.com'), false);
  });

  test('redirect and deny end processing; later rules do not run', () => {
    const engine = new RulesEngine([
      {
        name: 'deny',
        when: { path_prefix: '/admin' },
        request: [{ deny: { status: 403, body: 'not here' } }],
      },
      {
        name: 'move',
        when: { path_prefix: '/old' },
        request: [{ redirect: { status: 301, location: 'https://new.example.com' } }],
      },
      { name: 'late', request: [{ set_header: { name: 'X-Late', value: '1' } }] },
    ]);
    const denied = engine.applyRequest(request('/admin/users'));
    assert.deepEqual(denied.reply, { rule: 'deny', status: 403, headers: [], body: 'not here' });
    const moved = engine.applyRequest(request('/old?q=1'));
    assert.equal(moved.reply?.status, 301);
    assert.deepEqual(moved.reply?.headers, ['Location', 'https://new.example.com']);
    const normal = request('/other');
    assert.equal(engine.applyRequest(normal).reply, undefined);
    assert.ok(normal.headers.includes('X-Late'));
  });

  test('rewrite_path replaces a prefix on a segment boundary and keeps the rest and the query', () => {
    assert.equal(rewritePrefix('/app', '/app', '/'), '/');
    assert.equal(rewritePrefix('/app/x/y?z=1', '/app', '/'), '/x/y?z=1');
    assert.equal(rewritePrefix('/app?z=1', '/app', '/'), '/?z=1');
    assert.equal(rewritePrefix('/api/v1', '/api', '/v2'), '/v2/v1');
    assert.equal(rewritePrefix('/apple', '/app', '/'), '/apple');
    const engine = new RulesEngine([
      { name: 'rw', request: [{ rewrite_path: { from: '/app', to: '/' } }] },
    ]);
    assert.equal(engine.applyRequest(request('/app/x')).path, '/x');
  });

  test('path_prefix and rewrite_path see the normalized path; without a rewrite the target stays as sent', () => {
    const engine = new RulesEngine([
      { name: 'deny', when: { path_prefix: '/admin' }, request: [{ deny: { status: 403 } }] },
      { name: 'rw', request: [{ rewrite_path: { from: '/%61pp', to: '/v2/' } }] },
    ]);
    for (const path of ['/%61dmin', '//admin/x', '/x/../admin', '/%2Fadmin?q', '/adm%69n'])
      assert.equal(engine.applyRequest(request(path)).reply?.status, 403, path);
    assert.equal(engine.applyRequest(request('//app/./a%20b?q=/%2e')).path, '/v2/a%20b?q=/%2e');
    assert.equal(engine.applyRequest(request('//other/./x?q')).path, '//other/./x?q');
    assert.equal(engine.applyRequest(request('/administrator')).reply, undefined);
  });

  test('response actions of the rules that matched the request apply to the response', () => {
    const engine = new RulesEngine([
      {
        name: 'sec',
        response: [
          { set_header: { name: 'Strict-Transport-Security', value: 'max-age=1' } },
          { remove_header: 'Server' },
        ],
      },
      {
        name: 'never',
        when: { methods: ['DELETE'] },
        response: [{ set_header: { name: 'X-Never', value: '1' } }],
      },
    ]);
    const verdict = engine.applyRequest(request());
    const headers = ['Server', 'nginx', 'Content-Type', 'text/plain'];
    engine.applyResponse(verdict.matched, headers);
    assert.deepEqual(headers, [
      'Content-Type',
      'text/plain',
      'Strict-Transport-Security',
      'max-age=1',
    ]);
  });

  test('invalid rules are refused with POSTERN_ERR_RULE_INVALID naming the rule', () => {
    const bad: HttpRule[] = [
      { name: 'r1', request: [{ set_header: { name: 'Bad Name', value: 'x' } }] },
      { name: 'r2', request: [{ set_header: { name: 'X-A', value: 'line\r\nInjected: 1' } }] },
      { name: 'r3', request: [{ redirect: { status: 200, location: '/' } }] },
      { name: 'r4', request: [{ deny: { status: 99 } }] },
      { name: 'r5', request: [{ rewrite_path: { from: 'app', to: '/' } }] },
      { name: 'r6', response: [{ set_header: { name: 'Content-Length', value: '1' } }] },
    ];
    for (const rule of bad) {
      assert.throws(
        () => new RulesEngine([rule]),
        (err: unknown) =>
          isPosternError(err, 'POSTERN_ERR_RULE_INVALID') && err.message.includes(`"${rule.name}"`),
      );
    }
  });
});

describe('rules on a running http virtual server', () => {
  let backend: Backend;
  let proxy: Proxy;

  before(async () => {
    backend = await startBackend('rules', (req, res) => {
      res.setHeader('Server', 'backend/1.0');
      res.setHeader('X-Upstream', 'yes');
      res.end(`path=${req.url}`);
    });
    proxy = await startProxy({
      pool: makePool('rules', [backend.address]),
      rules: [
        {
          name: 'deny-admin',
          when: { path_prefix: '/admin' },
          request: [{ deny: { status: 403, body: 'not here' } }],
        },
        {
          name: 'moved',
          when: { host: 'old.example.com' },
          request: [{ redirect: { status: 308, location: 'https://new.example.com/' } }],
        },
        {
          name: 'app',
          when: { path_prefix: '/app', methods: ['GET'] },
          request: [
            { set_header: { name: 'X-Env', value: 'prod' } },
            { append_header: { name: 'Via', value: 'postern' } },
            { remove_header: 'X-Debug' },
            { rewrite_path: { from: '/app', to: '/' } },
          ],
          response: [
            { set_header: { name: 'Strict-Transport-Security', value: 'max-age=63072000' } },
            { remove_header: 'Server' },
          ],
        },
      ],
    });
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  test('request header actions and rewrite_path reach the backend; response actions reach the client', async () => {
    const res = await send(proxy.port, {
      path: '/app/list?x=1',
      headers: { 'X-Debug': 'on', Via: '1.1 client' },
    });
    assert.equal(res.text, 'path=/list?x=1');
    const seen = backend.seen.at(-1);
    assert.equal(seen?.headers['x-env'], 'prod');
    assert.equal(seen?.headers.via, '1.1 client, postern');
    assert.equal(seen?.headers['x-debug'], undefined);
    assert.equal(res.headers['strict-transport-security'], 'max-age=63072000');
    assert.equal(res.headers.server, undefined);
    assert.equal(res.headers['x-upstream'], 'yes');
  });

  test('rules whose condition does not match leave the request alone', async () => {
    const res = await send(proxy.port, { method: 'POST', path: '/app/list', body: 'x' });
    assert.equal(res.text, 'path=/app/list');
    assert.equal(res.headers.server, 'backend/1.0');
  });

  test('deny answers with its status and body without reaching the backend', async () => {
    const before = backend.seen.length;
    const res = await send(proxy.port, { path: '/admin/users' });
    assert.equal(res.status, 403);
    assert.equal(res.text, 'not here');
    assert.equal(backend.seen.length, before);
    await waitFor(() => proxy.records.some((r) => r.rule === 'deny-admin'));
    assert.equal(proxy.records.find((r) => r.rule === 'deny-admin')?.status, 403);
  });

  test('an absolute-form target is matched by its path and host, so it cannot slip past a rule', async () => {
    const before = backend.seen.length;
    const denied = await send(proxy.port, { path: 'http://app.example.com/admin/users' });
    assert.equal(denied.status, 403);
    assert.equal(backend.seen.length, before);
    const moved = await send(proxy.port, { path: 'http://old.example.com/x' });
    assert.equal(moved.status, 308);
    const passed = await send(proxy.port, { path: 'http://app.example.com/other?q=1' });
    assert.equal(passed.text, 'path=/other?q=1');
    assert.equal(backend.seen.at(-1)?.headers.host, 'app.example.com');
  });

  test('redirect answers with its status and Location', async () => {
    const res = await send(proxy.port, { path: '/x', headers: { host: 'old.example.com' } });
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, 'https://new.example.com/');
  });
});

describe("response rules on the edge's own answers", () => {
  let proxy: Proxy;

  before(async () => {
    proxy = await startProxy({
      pool: makePool('gone', [await deadAddress()]),
      retries: 0,
      rules: [
        {
          name: 'hsts',
          response: [{ set_header: { name: 'Strict-Transport-Security', value: 'max-age=600' } }],
        },
        {
          name: 'deny-admin',
          when: { path_prefix: '/admin' },
          request: [{ deny: { status: 403, body: 'no' } }],
        },
      ],
    });
  });

  after(async () => {
    await proxy.close();
  });

  test('an error answer of the edge carries the response headers of the rules that matched', async () => {
    const res = await send(proxy.port, { path: '/' });
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_DIAL_REFUSED');
    assert.equal(res.headers['strict-transport-security'], 'max-age=600');
  });

  test('a deny answer carries them too, from every rule that matched before it', async () => {
    const res = await send(proxy.port, { path: '/admin' });
    assert.equal(res.status, 403);
    assert.equal(res.headers['strict-transport-security'], 'max-age=600');
  });
});
