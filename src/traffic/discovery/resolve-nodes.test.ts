import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, test } from 'node:test';
import { dnsDiscoverySpecFromConfig, type DnsDiscoveryConfigInput } from './dns-discovery-spec.js';
import { DnsTestServer } from './dns-test-server.js';
import { resolveNodes } from './resolve-nodes.js';

let dns: DnsTestServer;
let resolver: Resolver;

before(async () => {
  dns = await DnsTestServer.start();
  resolver = new Resolver({ timeout: 300, tries: 1 });
  resolver.setServers([dns.address]);
});
after(async () => {
  await dns.close();
});

const resolve = (config: DnsDiscoveryConfigInput) =>
  resolveNodes(resolver, dnsDiscoverySpecFromConfig('p', config));

const rejectsWith = (promise: Promise<unknown>, pattern: RegExp) =>
  assert.rejects(promise, (err: { code?: string; message?: string }) => {
    assert.equal(err.code, 'POSTERN_ERR_DISCOVERY_FAILED');
    assert.match(err.message ?? '', pattern);
    return true;
  });

test('A records give one node per address with the configured port and the lowest TTL', async () => {
  dns.set('web.test', {
    A: [
      { address: '10.0.0.2', ttl: 30 },
      { address: '10.0.0.1', ttl: 7 },
    ],
  });
  assert.deepEqual(await resolve({ name: 'web.test', port: 8080 }), {
    nodes: ['10.0.0.1:8080', '10.0.0.2:8080'],
    weights: new Map(),
    ttlMs: 7_000,
    skipped: [],
  });
});

test('AAAA records give bracketed IPv6 nodes', async () => {
  dns.set('v6.test', { AAAA: [{ address: 'fd00::5', ttl: 20 }] });
  assert.deepEqual(await resolve({ name: 'v6.test', port: 443, type: 'AAAA' }), {
    nodes: ['[fd00::5]:443'],
    weights: new Map(),
    ttlMs: 20_000,
    skipped: [],
  });
});

test('a CNAME chain is followed to the addresses', async () => {
  dns.set('alias.test', { CNAME: { target: 'alias2.test', ttl: 60 } });
  dns.set('alias2.test', { CNAME: { target: 'real.test', ttl: 60 } });
  dns.set('real.test', { A: [{ address: '10.0.0.9', ttl: 60 }] });
  assert.deepEqual((await resolve({ name: 'alias.test', port: 80 })).nodes, ['10.0.0.9:80']);
});

test('a name without records of the type is a successful empty set', async () => {
  dns.set('empty.test', { AAAA: [{ address: 'fd00::1', ttl: 5 }] });
  assert.deepEqual(await resolve({ name: 'empty.test', port: 80 }), {
    nodes: [],
    weights: new Map(),
    ttlMs: undefined,
    skipped: [],
  });
});

test('NXDOMAIN for a host name is a successful empty set (scale to zero)', async () => {
  assert.deepEqual(await resolve({ name: 'gone.test', port: 80 }), {
    nodes: [],
    weights: new Map(),
    ttlMs: undefined,
    skipped: [],
  });
});

test('SRV gives one node per target address with the record port, both families', async () => {
  dns.set('_http._tcp.svc.test', {
    SRV: [
      { target: 'a.svc.test', port: 8080, ttl: 5, priority: 10, weight: 5 },
      { target: 'b.svc.test', port: 9090, ttl: 5, priority: 10, weight: 1 },
    ],
  });
  dns.set('a.svc.test', { A: [{ address: '10.0.1.1', ttl: 5 }] });
  dns.set('b.svc.test', {
    A: [{ address: '10.0.1.2', ttl: 5 }],
    AAAA: [{ address: 'fd00::2', ttl: 5 }],
  });
  assert.deepEqual(await resolve({ name: '_http._tcp.svc.test', type: 'SRV' }), {
    nodes: ['10.0.1.1:8080', '10.0.1.2:9090', '[fd00::2]:9090'],
    // Each address takes its record's weight.
    weights: new Map([
      ['10.0.1.1:8080', 5],
      ['10.0.1.2:9090', 1],
      ['[fd00::2]:9090', 1],
    ]),
    ttlMs: undefined,
    skipped: [],
  });
});

test('the configured port overrides SRV ports', async () => {
  const { nodes } = await resolve({ name: '_http._tcp.svc.test', type: 'SRV', port: 7000 });
  assert.deepEqual(nodes, ['10.0.1.1:7000', '10.0.1.2:7000', '[fd00::2]:7000']);
});

test('SRV uses only the lowest priority that has addresses', async () => {
  dns.set('_prio._tcp.svc.test', {
    SRV: [
      { target: 'a.svc.test', port: 80, ttl: 5, priority: 20 },
      { target: 'b.svc.test', port: 80, ttl: 5, priority: 10 },
      { target: 'dead.svc.test', port: 80, ttl: 5, priority: 5 },
    ],
  });
  const spec = { name: '_prio._tcp.svc.test', type: 'SRV' } as const;
  const first = await resolve(spec);
  assert.deepEqual(first.nodes, ['10.0.1.2:80', '[fd00::2]:80']);
  assert.deepEqual(first.skipped, ['dead.svc.test: no A or AAAA record']);
  dns.set('b.svc.test', {});
  assert.deepEqual((await resolve(spec)).nodes, ['10.0.1.1:80']);
  dns.set('b.svc.test', {
    A: [{ address: '10.0.1.2', ttl: 5 }],
    AAAA: [{ address: 'fd00::2', ttl: 5 }],
  });
});

test('an SRV target without any address is left out; the other targets are used', async () => {
  dns.set('_bad._tcp.svc.test', {
    SRV: [
      { target: 'nowhere.svc.test', port: 80, ttl: 5 },
      { target: 'a.svc.test', port: 81, ttl: 5 },
    ],
  });
  assert.deepEqual(await resolve({ name: '_bad._tcp.svc.test', type: 'SRV' }), {
    nodes: ['10.0.1.1:81'],
    weights: new Map([['10.0.1.1:81', 10]]),
    ttlMs: undefined,
    skipped: ['nowhere.svc.test: no A or AAAA record'],
  });
  dns.set('_bad._tcp.svc.test', { SRV: [{ target: 'nowhere.svc.test', port: 80, ttl: 5 }] });
  const alone = await resolve({ name: '_bad._tcp.svc.test', type: 'SRV' });
  assert.deepEqual([alone.nodes, alone.skipped], [[], ['nowhere.svc.test: no A or AAAA record']]);
});

test('a refused AAAA query next to good A answers still gives the A addresses', async () => {
  dns.set('_mix._tcp.svc.test', {
    SRV: [
      { target: 'a.svc.test', port: 80, ttl: 5 },
      { target: 'b.svc.test', port: 80, ttl: 5 },
    ],
  });
  dns.fail('b.svc.test', 'AAAA', 'refused');
  dns.fail('a.svc.test', 'A', 'servfail');
  dns.fail('a.svc.test', 'AAAA', 'refused');
  try {
    assert.deepEqual(await resolve({ name: '_mix._tcp.svc.test', type: 'SRV' }), {
      nodes: ['10.0.1.2:80'],
      weights: new Map([['10.0.1.2:80', 10]]),
      ttlMs: undefined,
      skipped: ['a.svc.test: A ESERVFAIL, AAAA EREFUSED'],
    });
  } finally {
    dns.fail('b.svc.test', 'AAAA', undefined);
    dns.fail('a.svc.test', 'A', undefined);
    dns.fail('a.svc.test', 'AAAA', undefined);
  }
});

test('a failing SRV query itself is an error', async () => {
  dns.fail('_mix._tcp.svc.test', 'SRV', 'refused');
  try {
    await rejectsWith(resolve({ name: '_mix._tcp.svc.test', type: 'SRV' }), /EREFUSED/);
  } finally {
    dns.fail('_mix._tcp.svc.test', 'SRV', undefined);
  }
});

test('an SRV target of "." is a valid empty set', async () => {
  dns.set('_none._tcp.svc.test', { SRV: [{ target: '.', port: 0, ttl: 5 }] });
  assert.deepEqual((await resolve({ name: '_none._tcp.svc.test', type: 'SRV' })).nodes, []);
});

test('NXDOMAIN for an SRV name is an error, not an empty set', async () => {
  await rejectsWith(resolve({ name: '_gone._tcp.svc.test', type: 'SRV' }), /NXDOMAIN/);
});

test('a failing resolver is an error: SERVFAIL, REFUSED, no answer', async () => {
  dns.set('web.test', { A: [{ address: '10.0.0.1', ttl: 5 }] });
  const cases = [
    ['servfail', /ESERVFAIL/],
    ['refused', /EREFUSED/],
    ['silent', /ETIMEOUT/],
  ] as const;
  for (const [mode, pattern] of cases) {
    dns.mode = mode;
    await rejectsWith(resolve({ name: 'web.test', port: 80 }), pattern);
  }
  dns.mode = 'answer';
});

test('a spec without a port for A records, or with a bad resolver, is refused', () => {
  assert.throws(() => dnsDiscoverySpecFromConfig('p', { name: 'web.test' }), {
    code: 'POSTERN_ERR_POOL_INVALID',
  });
  assert.throws(
    () =>
      dnsDiscoverySpecFromConfig('p', { name: 'web.test', port: 80, resolver: 'dns.example:53' }),
    { code: 'POSTERN_ERR_POOL_INVALID' },
  );
  assert.equal(
    dnsDiscoverySpecFromConfig('p', { name: 'x', type: 'SRV', resolver: '[::1]:5353' }).resolver,
    '[::1]:5353',
  );
});
