import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientIpOf, requestHead, upstreamRequestHeaders } from './forward-headers.js';

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

  test('extends X-Forwarded-For (all of its fields) and replaces -Proto and -Host', () => {
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
      forwarded,
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
