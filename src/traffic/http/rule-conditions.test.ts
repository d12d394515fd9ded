import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isPosternError } from '../../core/index.js';
import type { RuleCondition } from './rule-types.js';
import { RulesEngine, type RuleRequest } from './rules-engine.js';
import { makePool, send, startBackend, startProxy, type Backend, type Proxy } from './test-kit.js';

/** True when a deny rule with this condition answers the request. */
function holds(when: RuleCondition, r: Partial<RuleRequest>): boolean {
  const engine = new RulesEngine([{ name: 'c', when, request: [{ deny: { status: 403 } }] }]);
  const request: RuleRequest = { method: 'GET', host: 'h.test', path: '/', headers: [], ...r };
  return engine.applyRequest(request).reply !== undefined;
}

describe('rule conditions', () => {
  test('header: value, prefix and present, name in any case, any of several fields', () => {
    const headers = ['x-env', 'staging', 'X-Env', ' prod ', 'Accept', 'text/html'];
    assert.equal(holds({ header: { name: 'X-ENV', value: 'prod' } }, { headers }), true);
    assert.equal(holds({ header: { name: 'x-env', value: 'dev' } }, { headers }), false);
    assert.equal(holds({ header: { name: 'accept', prefix: 'text/' } }, { headers }), true);
    assert.equal(holds({ header: { name: 'accept', prefix: 'image/' } }, { headers }), false);
    assert.equal(holds({ header: { name: 'x-api-key', present: false } }, { headers }), true);
    assert.equal(holds({ header: { name: 'x-api-key', present: true } }, { headers }), false);
    assert.equal(holds({ header: { name: 'accept', present: true } }, { headers }), true);
  });

  test('query: decoded parameter value or presence; no query means absent', () => {
    const path = '/s?debug=1&name=a%20b&flag&x=+y';
    assert.equal(holds({ query: { name: 'debug', value: '1' } }, { path }), true);
    assert.equal(holds({ query: { name: 'name', value: 'a b' } }, { path }), true);
    assert.equal(holds({ query: { name: 'x', value: ' y' } }, { path }), true);
    assert.equal(holds({ query: { name: 'flag', present: true } }, { path }), true);
    assert.equal(holds({ query: { name: 'debug', value: '2' } }, { path }), false);
    assert.equal(holds({ query: { name: 'debug', present: true } }, { path: '/s' }), false);
    assert.equal(holds({ query: { name: 'debug', present: false } }, { path: '/s' }), true);
  });

  test('cookie: value or presence across Cookie fields', () => {
    const headers = ['Cookie', 'a=1; beta=on', 'cookie', 'sid=xyz'];
    assert.equal(holds({ cookie: { name: 'beta', value: 'on' } }, { headers }), true);
    assert.equal(holds({ cookie: { name: 'sid', present: true } }, { headers }), true);
    assert.equal(holds({ cookie: { name: 'Beta', present: true } }, { headers }), false);
    assert.equal(holds({ cookie: { name: 'a', value: '2' } }, { headers }), false);
  });

  test('client_ip: IPv4 and IPv6 networks', () => {
    const when = { client_ip: ['10.0.0.0/8', 'fd00::/8', '192.0.2.7'] };
    assert.equal(holds(when, { clientIp: '10.2.3.4' }), true);
    assert.equal(holds(when, { clientIp: '192.0.2.7' }), true);
    assert.equal(holds(when, { clientIp: 'fd12::1' }), true);
    assert.equal(holds(when, { clientIp: '11.0.0.1' }), false);
    assert.equal(holds(when, { clientIp: '' }), false);
  });

  test('all conditions of a rule must hold', () => {
    const when: RuleCondition = {
      methods: ['POST'],
      path_prefix: '/api',
      header: { name: 'x-env', value: 'prod' },
    };
    const headers = ['X-Env', 'prod'];
    assert.equal(holds(when, { method: 'POST', path: '/api/x', headers }), true);
    assert.equal(holds(when, { method: 'GET', path: '/api/x', headers }), false);
    assert.equal(holds(when, { method: 'POST', path: '/web', headers }), false);
    assert.equal(holds(when, { method: 'POST', path: '/api/x', headers: [] }), false);
  });

  test('bad conditions are refused when compiled', () => {
    const bad: RuleCondition[] = [
      { client_ip: ['10.0.0.0/33'] },
      { client_ip: ['not-an-ip/8'] },
      { header: { name: '', present: true } },
      { header: { name: 'x', value: 'a', prefix: 'b' } },
      { query: { name: 'q', prefix: 'b' } },
      { cookie: { name: 'c' } },
    ];
    for (const when of bad)
      assert.throws(
        () => new RulesEngine([{ name: 'bad', when, request: [{ deny: { status: 403 } }] }]),
        (err: unknown) => isPosternError(err, 'POSTERN_ERR_RULE_INVALID'),
        JSON.stringify(when),
      );
  });
});

describe('conditions through a virtual server', () => {
  let backend: Backend;
  let proxy: Proxy;

  before(async () => {
    backend = await startBackend('c');
    proxy = await startProxy({
      pool: makePool('p', [backend.address]),
      rules: [
        {
          name: 'no-internal',
          when: { header: { name: 'x-internal', present: true } },
          request: [{ deny: { status: 403, body: 'internal only' } }],
        },
      ],
    });
  });

  after(async () => {
    await proxy.close();
    await backend.close();
  });

  test('a header condition selects the deny, and requests without it pass', async () => {
    const before = backend.seen.length;
    const denied = await send(proxy.port, { headers: { 'X-Internal': 'yes' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.text, 'internal only');
    assert.equal(backend.seen.length, before);
    const passed = await send(proxy.port, {});
    assert.equal(passed.status, 200);
    assert.equal(backend.seen.length, before + 1);
  });
});
