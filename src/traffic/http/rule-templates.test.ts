import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isPosternError } from '../../core/index.js';
import type { HttpRule } from './rule-types.js';
import { encodeForUri } from './rule-values.js';
import { RulesEngine, type RuleRequest } from './rules-engine.js';
import { makePool, send, startBackend, startProxy, type Backend, type Proxy } from './test-kit.js';

const toHttps: HttpRule = {
  name: 'to-https',
  request: [{ redirect: { status: 301, location: 'https://{host}{request_uri}' } }],
};

function req(path: string, more: Partial<RuleRequest> = {}): RuleRequest {
  return { method: 'GET', host: 'new.test', path, headers: [], ...more };
}

function redirectOf(rules: readonly HttpRule[], r: RuleRequest): string | undefined {
  const reply = new RulesEngine(rules).applyRequest(r).reply;
  assert.ok(reply, 'the rule answered');
  const i = reply.headers.indexOf('Location');
  return i < 0 ? undefined : reply.headers[i + 1];
}

describe('rule value templates', () => {
  test('a redirect keeps path and query with {host}{request_uri}', () => {
    assert.equal(redirectOf([toHttps], req('/old/page?q=1')), 'https://new.test/old/page?q=1');
  });

  test('each variable has its documented text', () => {
    const rule: HttpRule = {
      name: 'all',
      request: [
        {
          set_header: {
            name: 'X-All',
            value: '{scheme}|{host}|{port}|{path}|{query}|{request_uri}|{client_ip}',
          },
        },
      ],
    };
    const engine = new RulesEngine([rule]);
    const r = req('/a/b?x=1&y', {
      rawHost: 'New.Test:8080',
      scheme: 'https',
      clientIp: '10.1.2.3',
    });
    assert.equal(engine.applyRequest(r).reply, undefined);
    assert.deepEqual(r.headers, ['X-All', 'https|new.test|8080|/a/b|x=1&y|/a/b?x=1&y|10.1.2.3']);
    const plain = req('/p', { rawHost: 'new.test', clientIp: '::1' });
    engine.applyRequest(plain);
    assert.deepEqual(plain.headers, ['X-All', 'http|new.test|80|/p||/p|::1']);
  });

  test('"{{" and "}}" are literal braces, not variables', () => {
    const rule: HttpRule = {
      name: 'esc',
      request: [{ append_header: { name: 'X-J', value: '{{"host":"{host}"}} {{host}}' } }],
    };
    const r = req('/');
    new RulesEngine([rule]).applyRequest(r);
    assert.deepEqual(r.headers, ['X-J', '{"host":"new.test"} {host}']);
  });

  test('an unknown variable is refused when compiled, listing the known ones', () => {
    assert.throws(
      () =>
        new RulesEngine([
          { name: 'bad', request: [{ redirect: { status: 302, location: 'https://{hots}/' } }] },
        ]),
      (err: unknown) =>
        isPosternError(err, 'POSTERN_ERR_RULE_INVALID') &&
        err.message.includes('unknown variable {hots}') &&
        err.message.includes('{request_uri}'),
    );
  });

  test('CR/LF from the request reach a Location %-encoded, never as a line break', () => {
    const location = redirectOf([toHttps], req('/a\r\nSet-Cookie: x=1?q="<b>"'));
    assert.equal(location, 'https://new.test/a%0D%0ASet-Cookie:%20x=1?q=%22%3Cb%3E%22');
  });

  test('CR/LF from the request in a header value get a 400 instead of the header', () => {
    const rule: HttpRule = {
      name: 'orig',
      request: [{ set_header: { name: 'X-Orig', value: '{path}' } }],
    };
    const r = req('/a\r\nX-Admin: 1');
    const reply = new RulesEngine([rule]).applyRequest(r).reply;
    assert.equal(reply?.status, 400);
    assert.match(reply.body, /path holds control characters/);
    assert.deepEqual(r.headers, []);
    const byHost = new RulesEngine([
      { name: 'h', request: [{ set_header: { name: 'X-H', value: '{host}' } }] },
    ]).applyRequest(req('/', { host: 'a\nb' }));
    assert.equal(byHost.reply?.status, 400);
  });

  test('a location starting with the path cannot become a protocol-relative URL', () => {
    const rule: HttpRule = {
      name: 'rel',
      request: [{ redirect: { status: 302, location: '{path}/' } }],
    };
    assert.equal(redirectOf([rule], req('//evil.example/x')), '/evil.example/x/');
  });

  test('a redirect needing a Host or a path the request lacks answers 400', () => {
    const engine = new RulesEngine([toHttps]);
    assert.equal(engine.applyRequest(req('/x', { host: '' })).reply?.status, 400);
    assert.equal(engine.applyRequest(req('*')).reply?.status, 400);
  });

  test('response header values are taken literally, braces included', () => {
    const engine = new RulesEngine([
      { name: 'r', response: [{ set_header: { name: 'X-T', value: '{host} {{' } }] },
    ]);
    const verdict = engine.applyRequest(req('/'));
    const headers: string[] = [];
    engine.applyResponse(verdict.matched, headers);
    assert.deepEqual(headers, ['X-T', '{host} {{']);
  });

  test('values without variables are compiled to a constant (the fast path)', () => {
    const engine = new RulesEngine([
      { name: 'c', request: [{ redirect: { status: 308, location: 'https://x.test/{{y}}' } }] },
    ]);
    const a = engine.applyRequest(req('/1')).reply;
    const b = engine.applyRequest(req('/2')).reply;
    assert.deepEqual(a?.headers, ['Location', 'https://x.test/{y}']);
    assert.deepEqual(b?.headers, a?.headers);
  });

  test('encodeForUri encodes latin1 bytes singly, other text as UTF-8, and stray %', () => {
    assert.equal(encodeForUri('/caf\xe9'), '/caf%E9');
    assert.equal(encodeForUri('/\u20ac%zz%41'), '/%E2%82%AC%25zz%41');
    assert.equal(encodeForUri('/\ud800x'), '/%EF%BF%BDx');
  });
});

describe('templates through a virtual server', () => {
  let backend: Backend;
  let proxy: Proxy;

  before(async () => {
    backend = await startBackend('t');
    proxy = await startProxy({
      pool: makePool('p', [backend.address]),
      rules: [
        {
          name: 'tag',
          request: [{ set_header: { name: 'X-Seen', value: '{client_ip} {request_uri}' } }],
        },
        { ...toHttps, when: { host: 'new.test' } },
      ],
    });
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  test('http→https redirect keeps path and query', async () => {
    const res = await send(proxy.port, {
      path: '/old/page?q=1',
      headers: { host: 'new.test:8080' },
    });
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, 'https://new.test/old/page?q=1');
  });

  test('a request header value filled from the request reaches the node', async () => {
    const res = await send(proxy.port, { path: '/x?a=b', headers: { host: 'other.test' } });
    assert.equal(res.status, 200);
    assert.equal(backend.seen.at(-1)?.headers['x-seen'], '127.0.0.1 /x?a=b');
  });

  test('quote and angle bytes in the target reach the Location %-encoded', async () => {
    const head = await rawHead(proxy.port, 'GET /a?q="<x>" HTTP/1.1\r\nHost: new.test\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 301 /);
    assert.match(head, /\r\nLocation: https:\/\/new\.test\/a\?q=%22%3Cx%3E%22\r\n/i);
  });
});

/** Sends raw bytes (latin1) and resolves with the response head. */
function rawHead(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response head in 5 s: ${JSON.stringify(got)}`));
    }, 5000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      got += chunk;
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(got.slice(0, end + 2));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.end(Buffer.from(text, 'latin1'));
  });
}
