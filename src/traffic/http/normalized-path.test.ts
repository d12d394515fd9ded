import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isValidHost } from './host-pattern.js';
import {
  encodePath,
  normalizePath,
  normalizePrefix,
  pathForRules,
  prefixForRules,
} from './normalized-path.js';
import { requestRefusal } from './request-refusal.js';

const pathOf = (target: string): string => {
  const r = normalizePath(target);
  assert.ok(r.ok, `${target}: ${r.ok ? '' : r.problem}`);
  return r.path;
};

describe('normalized path', () => {
  test('every spelling of /admin from the security review normalizes to /admin', () => {
    const spellings = [
      '/admin',
      '/%61dmin',
      '/./admin',
      '//admin',
      '/x/../admin',
      '/x/%2e%2e/admin',
      '/%2e/admin',
      '/%2Fadmin',
      '/x%2F..%2Fadmin',
      '/x%5C..%5Cadmin',
      '/x/y/%2e%2E/%2E%2e/admin',
    ];
    for (const s of spellings) assert.equal(pathOf(s), '/admin', s);
    assert.equal(pathOf('/adm%69n/x'), '/admin/x');
  });

  test('routes and rules compare paths without path parameters; the normalized path keeps them', () => {
    assert.equal(pathForRules('/admin;jsessionid=1/secret;y=2'), '/admin/secret');
    assert.equal(pathForRules('/%61dmin%3Bx'), '/admin');
    assert.equal(pathOf('/admin;x/y'), '/admin;x/y', 'rewrites and the node keep them');
    assert.equal(prefixForRules('/app;v=1/'), '/app/');
  });

  test('keeps a trailing slash, drops the query and leaves normal paths alone', () => {
    assert.equal(pathOf('/'), '/');
    assert.equal(pathOf('/a/'), '/a/');
    assert.equal(pathOf('/a//'), '/a/');
    assert.equal(pathOf('/a/b/..'), '/a/');
    assert.equal(pathOf('/a/.'), '/a/');
    assert.equal(pathOf('/api/v1/x?y=/admin'), '/api/v1/x');
    assert.equal(pathOf('/files/a%20b'), '/files/a b');
    assert.equal(pathOf('/%252e%252e/admin'), '/%2e%2e/admin', 'decoded once, not twice');
    assert.equal(pathOf('/caf%C3%A9'), '/caf\xc3\xa9');
  });

  test('refuses fragments, backslashes, bad escapes, control bytes and climbing above the root', () => {
    const refused: [string, RegExp][] = [
      ['/admin#x', /"#"/],
      ['/admin\\x', /"\\"/],
      ['/%zz', /malformed %-escape "%zz"/],
      ['/a%2', /malformed/],
      ['/a%00b', /control character \(%00\)/],
      ['/a%0D%0Ab', /control character/],
      ['/a%7f', /control character/],
      ['/..', /climbs above the root/],
      ['/a/../../b', /climbs above the root/],
      ['/%2e%2e/x', /climbs above the root/],
      ['/a b', /space or control/],
    ];
    for (const [target, problem] of refused) {
      const r = normalizePath(target);
      assert.equal(r.ok, false, target);
      if (!r.ok) assert.match(r.problem, problem, target);
    }
  });

  test('configured prefixes normalize like request paths; encodePath re-escapes what a path cannot carry', () => {
    assert.equal(normalizePrefix('/%61pi'), '/api');
    assert.equal(normalizePrefix('/api/'), '/api/');
    assert.equal(normalizePrefix('/café'), '/caf\xc3\xa9');
    assert.equal(encodePath('/a b/%/?#/caf\xc3\xa9'), '/a%20b/%25/%3F%23/caf%C3%A9');
    assert.equal(encodePath("/a-z_0.9~!$&'()*+,;=:@"), "/a-z_0.9~!$&'()*+,;=:@");
  });
});

describe('Host validation (RFC 9112 §3.2)', () => {
  test('refuses the invalid Host values of the security review', () => {
    for (const h of ['b.test x', 'b.test/admin', 'a@b.test', '', 'b.test:80:90', '[a.test]'])
      assert.equal(isValidHost(h), false, JSON.stringify(h));
    for (const h of ['a.test;', 'a..test', '.a.test', 'a.test:65536', 'a.test:1x', '[::1'])
      assert.equal(isValidHost(h), false, JSON.stringify(h));
  });

  test('accepts names, IPv4, bracketed IPv6, a trailing dot and ports up to 65535', () => {
    for (const h of [
      'a.test',
      'A.Test.',
      'x',
      'a_b-c.test:8080',
      '127.0.0.1:80',
      '[::1]',
      '[::1]:65535',
    ])
      assert.equal(isValidHost(h), true, h);
  });
});

describe('request refusal', () => {
  test('TRACE is answered 405; a bad Host or target 400; CONNECT and OPTIONS * are left alone', () => {
    assert.equal(requestRefusal('TRACE', '/', 'a.test')?.status, 405);
    assert.match(requestRefusal('TRACE', '/', 'a.test')?.message ?? '', /TRACE is not served/);
    assert.equal(requestRefusal('GET', '/', 'a@b')?.status, 400);
    assert.equal(requestRefusal('GET', '//a/../..', 'a.test')?.status, 400);
    assert.equal(requestRefusal('OPTIONS', '*', 'a.test'), undefined);
    assert.equal(requestRefusal('CONNECT', 'a.test:443', 'a.test:443'), undefined);
    assert.equal(requestRefusal('GET', '/x', undefined), undefined);
  });
});
