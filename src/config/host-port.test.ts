import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isPosternError } from '../core/index.js';
import { formatHostPort, parseHostPort } from './host-port.js';

test('parseHostPort reads host names, IPv4 and bracketed IPv6', () => {
  assert.deepEqual(parseHostPort('db.Corp.internal:5432'), {
    host: 'db.corp.internal',
    port: 5432,
    family: 'hostname',
  });
  assert.deepEqual(parseHostPort('10.0.0.5:8080'), {
    host: '10.0.0.5',
    port: 8080,
    family: 'ipv4',
  });
  assert.deepEqual(parseHostPort('[fd00::5]:443'), { host: 'fd00::5', port: 443, family: 'ipv6' });
  assert.deepEqual(parseHostPort('localhost:1'), {
    host: 'localhost',
    port: 1,
    family: 'hostname',
  });
  assert.equal(parseHostPort('[::0]:65535').host, '::', 'IPv6 is returned in canonical form');
});

test('parseHostPort rejects malformed input with POSTERN_ERR_INVALID_HOST_PORT and the reason', () => {
  const cases: [string, RegExp][] = [
    ['example.com', /port is missing/],
    ['example.com:', /port "" is not a number/],
    ['example.com:http', /not a number/],
    ['example.com:0', /outside 1\.\.65535/],
    ['example.com:65536', /outside 1\.\.65535/],
    [':443', /host is missing/],
    ['::1:443', /needs brackets/],
    ['[::1:443', /not a bracketed IPv6/],
    ['[zz::1]:443', /not a bracketed IPv6/],
    ['256.1.1.1:80', /not a valid IPv4/],
    ['bad_name:80', /neither an IPv4 address nor a valid host name/],
    ['-lead.example:80', /neither/],
    [`${'a'.repeat(64)}.example:80`, /neither/],
  ];
  for (const [input, reason] of cases) {
    assert.throws(
      () => parseHostPort(input),
      (err: unknown) =>
        isPosternError(err, 'POSTERN_ERR_INVALID_HOST_PORT') &&
        reason.test(err.message) &&
        err.message.includes(JSON.stringify(input)),
      input,
    );
  }
});

test('formatHostPort brackets IPv6 and round-trips through parseHostPort', () => {
  assert.equal(formatHostPort({ host: 'fd00::1', port: 80 }), '[fd00::1]:80');
  assert.equal(formatHostPort({ host: '10.1.2.3', port: 80 }), '10.1.2.3:80');
  fc.assert(
    fc.property(
      fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()),
      fc.integer({ min: 1, max: 65535 }),
      (host, port) => {
        const parsed = parseHostPort(formatHostPort({ host, port }));
        assert.equal(parsed.port, port);
        assert.deepEqual(parseHostPort(formatHostPort(parsed)), parsed);
      },
    ),
    { numRuns: 300 },
  );
});
