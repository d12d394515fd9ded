import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Application } from '../../config/index.js';
import { applicationSchema } from '../../config/index.js';
import { ApplicationMatcher } from './application-matcher.js';

function app(fields: Record<string, unknown>): Application {
  return applicationSchema.parse({ connector_groups: ['dc'], ports: ['1-65535'], ...fields });
}

function nameAt(matcher: ApplicationMatcher, host: string, port: number): string | undefined {
  return matcher.match(host, port)?.name;
}

test('an exact domain beats a longer and a shorter wildcard, whatever the listing order', () => {
  const apps = [
    app({ name: 'all-corp', domains: ['*.corp.internal'] }),
    app({ name: 'db-zone', domains: ['*.db.corp.internal'] }),
    app({ name: 'primary', domains: ['primary.db.corp.internal'] }),
  ];
  for (const order of [apps, [...apps].reverse()]) {
    const m = new ApplicationMatcher(order);
    assert.equal(nameAt(m, 'primary.db.corp.internal', 5432), 'primary');
    assert.equal(nameAt(m, 'replica.db.corp.internal', 5432), 'db-zone');
    assert.equal(nameAt(m, 'x.y.db.corp.internal', 5432), 'db-zone');
    assert.equal(nameAt(m, 'wiki.corp.internal', 443), 'all-corp');
    assert.equal(nameAt(m, 'corp.internal', 443), undefined, 'a wildcard needs a label below');
    assert.equal(nameAt(m, 'example.com', 443), undefined);
  }
});

test('names compare without case and without a trailing dot', () => {
  const m = new ApplicationMatcher([app({ name: 'db', domains: ['DB.Corp.Internal'] })]);
  assert.equal(nameAt(m, 'db.corp.internal.', 5432), 'db');
  assert.equal(nameAt(m, 'db.CORP.internal', 5432), 'db');
});

test('the port must be in a range; a less specific app that has the port is used instead', () => {
  const m = new ApplicationMatcher([
    app({ name: 'db', domains: ['db.corp.internal'], ports: ['5432', '8000-8100'] }),
    app({ name: 'web', domains: ['*.corp.internal'], ports: [443] }),
  ]);
  assert.equal(nameAt(m, 'db.corp.internal', 5432), 'db');
  assert.equal(nameAt(m, 'db.corp.internal', 8000), 'db');
  assert.equal(nameAt(m, 'db.corp.internal', 8100), 'db');
  assert.equal(nameAt(m, 'db.corp.internal', 8101), undefined);
  assert.equal(nameAt(m, 'db.corp.internal', 7999), undefined);
  assert.equal(nameAt(m, 'db.corp.internal', 443), 'web');
});

test('equally specific applications resolve to the one listed first', () => {
  const m = new ApplicationMatcher([
    app({ name: 'first', domains: ['db.corp.internal'], ports: ['5000-6000'] }),
    app({ name: 'second', domains: ['db.corp.internal'], ports: ['5432'] }),
  ]);
  assert.equal(nameAt(m, 'db.corp.internal', 5432), 'first');
});

test('the longest IPv4 prefix wins and the port still has to match', () => {
  const m = new ApplicationMatcher([
    app({ name: 'wide', cidrs: ['10.0.0.0/8'] }),
    app({ name: 'subnet', cidrs: ['10.1.0.0/16'], ports: ['22'] }),
    app({ name: 'host', cidrs: ['10.1.2.3/32'], ports: ['5432'] }),
  ]);
  assert.equal(nameAt(m, '10.1.2.3', 5432), 'host');
  assert.equal(nameAt(m, '10.1.2.3', 22), 'subnet');
  assert.equal(nameAt(m, '10.1.2.3', 80), 'wide');
  assert.equal(nameAt(m, '10.2.0.1', 22), 'wide');
  assert.equal(nameAt(m, '11.0.0.1', 22), undefined);
  assert.equal(nameAt(m, '::ffff:10.1.2.3', 5432), 'host', 'IPv4-mapped IPv6 is IPv4');
});

test('IPv6 networks match IPv6 destinations by longest prefix, with or without brackets', () => {
  const m = new ApplicationMatcher([
    app({ name: 'ula', cidrs: ['fd00::/8'] }),
    app({ name: 'site', cidrs: ['fd00:1:2::/48'] }),
    app({ name: 'v4', cidrs: ['0.0.0.0/0'] }),
  ]);
  assert.equal(nameAt(m, 'fd00:1:2::10', 443), 'site');
  assert.equal(nameAt(m, '[fd00:1:2:3::1]', 443), 'site');
  assert.equal(nameAt(m, 'fd00:9::1', 443), 'ula');
  assert.equal(nameAt(m, '2001:db8::1', 443), undefined, 'an IPv4 network holds no IPv6');
  assert.equal(nameAt(m, '192.0.2.1', 443), 'v4');
});

test('names never match networks and addresses never match domains', () => {
  const m = new ApplicationMatcher([
    app({ name: 'net', cidrs: ['0.0.0.0/0', '::/0'] }),
    app({ name: 'names', domains: ['*.internal'] }),
  ]);
  assert.equal(nameAt(m, 'db.internal', 80), 'names');
  assert.equal(nameAt(m, 'db.example.com', 80), undefined);
  assert.equal(nameAt(m, '10.0.0.1', 80), 'net');
});

test('disabled applications are ignored', () => {
  const m = new ApplicationMatcher([
    app({ name: 'exact', domains: ['db.corp.internal'], enabled: false }),
    app({ name: 'wild', domains: ['*.corp.internal'] }),
    app({ name: 'off', cidrs: ['10.0.0.0/8'], enabled: false }),
  ]);
  assert.equal(nameAt(m, 'db.corp.internal', 5432), 'wild');
  assert.equal(nameAt(m, '10.0.0.1', 5432), undefined);
});

test('the chosen CIDR application is always a longest matching prefix (property)', () => {
  const octet = fc.integer({ min: 0, max: 255 });
  const cidr = fc
    .tuple(octet, octet, fc.integer({ min: 0, max: 32 }))
    .map(([a, b, len]) => ({ text: `10.${a}.${b}.0/${len}`, a, b, len }));
  fc.assert(
    fc.property(fc.array(cidr, { minLength: 1, maxLength: 12 }), octet, octet, (cidrs, a, b) => {
      const apps = cidrs.map((c, i) => app({ name: `a${i}`, cidrs: [c.text] }));
      const address = (10 << 24) | (a << 16) | (b << 8) | 7;
      const contains = (c: (typeof cidrs)[number]) => {
        const base = (10 << 24) | (c.a << 16) | (c.b << 8);
        const mask = c.len === 0 ? 0 : (~0 << (32 - c.len)) >>> 0;
        return (address & mask) >>> 0 === (base & mask) >>> 0;
      };
      const holding = cidrs.filter(contains);
      const longest = Math.max(-1, ...holding.map((c) => c.len));
      const chosen = new ApplicationMatcher(apps).match(`10.${a}.${b}.7`, 80);
      if (holding.length === 0) return chosen === undefined;
      const index = Number(chosen?.name.slice(1));
      return cidrs[index]?.len === longest && contains(cidrs[index]);
    }),
    { numRuns: 300 },
  );
});
