import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  clientIpOf,
  hostConflicts,
  requestHead,
  upstreamRequestHeaders,
  withoutPosternCookies,
} from './forward-headers.js';

describe('forwarded request headers', () => {
  const forwarded = { clientIp: '192.0.2.9', proto: 'https' as const, host: 'app.test' };

  test('drops hop-by-hop fields and those named by Connection, keeps the rest in order', () => {
    const out = upstreamRequestHeaders(
      [
        'Host',
        'app.test',
        'Connection',
        'keep-alive, X-Hop',
        'X-Hop',
        '1',
        'Accept',
        '*/*',
        'Upgrade',
        'h2c',
        'Expect',
        '100-continue',
      ],
      undefined,
    );
    assert.deepEqual(out, ['Host', 'app.test', 'Accept', '*/*']);
  });

  test('with append, extends X-Forwarded-For (all of its fields) and replaces -Proto and -Host', () => {
    const out = upstreamRequestHeaders(
      [
        'Host',
        'app.test',
        'X-Forwarded-For',
        '10.0.0.1',
        'x-forwarded-for',
        '10.0.0.2',
        'X-Forwarded-Proto',
        'http',
        'X-Forwarded-Host',
        'evil',
      ],
      { ...forwarded, append: true },
    );
    assert.deepEqual(out, [
      'Host',
      'app.test',
      'X-Forwarded-For',
      '10.0.0.1, 10.0.0.2, 192.0.2.9',
      'X-Forwarded-Proto',
      'https',
      'X-Forwarded-Host',
      'app.test',
    ]);
  });

  test('by default the client address replaces X-Forwarded-For; Forwarded and X-Real-IP go', () => {
    const raw = [
      'X-Forwarded-For',
      '10.0.0.1',
      'Forwarded',
      'for=9.9.9.9',
      'x-real-ip',
      '6.6.6.6',
      'Accept',
      '*/*',
    ];
    assert.deepEqual(upstreamRequestHeaders(raw, forwarded), [
      'Accept',
      '*/*',
      'X-Forwarded-For',
      '192.0.2.9',
      'X-Forwarded-Proto',
      'https',
      'X-Forwarded-Host',
      'app.test',
    ]);
    const appended = upstreamRequestHeaders(raw, { ...forwarded, append: true });
    assert.deepEqual(appended.slice(0, 6), [
      'Forwarded',
      'for=9.9.9.9',
      'x-real-ip',
      '6.6.6.6',
      'Accept',
      '*/*',
    ]);
    assert.deepEqual(
      upstreamRequestHeaders(raw, undefined),
      raw,
      'forwarded_headers off: nothing is added or removed',
    );
  });

  test('every X-Postern-* field is removed, whatever its case, length and - or _ separators', () => {
    const out = upstreamRequestHeaders(
      [
        'X-Postern-User',
        'ceo',
        'x-postern-a',
        '1',
        'X-POSTERN-GROUPS',
        'admins',
        'X-Postern-Assertion',
        'forged',
        'X_Postern_User',
        'mallory',
        'x-postern_email',
        'm@evil',
        'X_POSTERN-GROUPS',
        'admins',
        'X-Posterns',
        'kept',
        'X_Posterns',
        'kept',
        'X-Real',
        'kept',
      ],
      undefined,
    );
    assert.deepEqual(out, ['X-Posterns', 'kept', 'X_Posterns', 'kept', 'X-Real', 'kept']);
  });

  test("Postern's cookies are removed from Cookie fields; the others stay in order", () => {
    const out = upstreamRequestHeaders(
      [
        'Accept',
        '*/*',
        'Cookie',
        'a=1; __Host-postern-session=S;b=2',
        'User-Agent',
        'x',
        'cookie',
        '__HOST-POSTERN-LOGIN=L; postern-admin-login=A; c=3',
      ],
      undefined,
    );
    assert.deepEqual(out, ['Accept', '*/*', 'Cookie', 'a=1; b=2; c=3', 'User-Agent', 'x']);
    assert.deepEqual(
      upstreamRequestHeaders(['Cookie', '__Host-postern-session=S', 'A', '1'], undefined),
      ['A', '1'],
    );
    assert.equal(withoutPosternCookies(['a=1;b= 2 ']), 'a=1;b= 2 ', 'untouched when none');
    assert.equal(withoutPosternCookies(['postern=1; my-postern-x=2']), 'postern=1; my-postern-x=2');
  });

  test('for HTTP/2 requests a host field gives way to :authority', () => {
    const out = upstreamRequestHeaders(
      [':authority', 'b.test', 'host', 'a.test', 'accept', '*/*'],
      undefined,
      'b.test',
    );
    assert.deepEqual(out, ['Host', 'b.test', 'accept', '*/*']);
  });

  test('a host field conflicts with :authority unless equal up to case, a final dot and default port', () => {
    assert.equal(hostConflicts(['host', 'a.test'], 'b.test', 'https'), true);
    assert.equal(hostConflicts(['host', 'a.test:8443'], 'a.test', 'https'), true);
    assert.equal(
      hostConflicts(['accept', 'x', 'host', 'b.test', 'host', 'a.test'], 'b.test', 'https'),
      true,
    );
    assert.equal(hostConflicts(['host', 'A.Test.:443'], 'a.test', 'https'), false);
    assert.equal(hostConflicts(['host', '[::1]:443'], '[::1]', 'https'), false);
    assert.equal(hostConflicts(['host', 'a.test:80'], 'a.test', 'http'), false);
    assert.equal(hostConflicts(['accept', '*/*'], 'a.test', 'https'), false);
  });

  test('for HTTP/2 requests: pseudo-headers go, :authority becomes Host, cookies are joined', () => {
    const out = upstreamRequestHeaders(
      [
        ':method',
        'GET',
        ':path',
        '/',
        ':authority',
        'app.test',
        ':scheme',
        'https',
        'cookie',
        'a=1',
        'cookie',
        'b=2',
      ],
      undefined,
      'app.test',
    );
    assert.deepEqual(out, ['Host', 'app.test', 'Cookie', 'a=1; b=2']);
  });

  test('the request head falls back to the node address when there is no Host', () => {
    assert.equal(
      requestHead('GET', '/x', ['A', '1'], '', '10.0.0.5:80'),
      'GET /x HTTP/1.1\r\nA: 1\r\nHost: 10.0.0.5:80\r\n\r\n',
    );
    assert.equal(
      requestHead('POST', '/', ['host', 'h'], 'Transfer-Encoding: chunked\r\n', 'n'),
      'POST / HTTP/1.1\r\nhost: h\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
  });

  test('client addresses lose the IPv4-mapped prefix', () => {
    assert.equal(clientIpOf('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(clientIpOf('::1'), '::1');
    assert.equal(clientIpOf(undefined), '');
  });
});
