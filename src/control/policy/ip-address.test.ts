import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { networkContains, parseCidr, parseIpAddress } from './ip-address.js';

test('IPv4 and IPv6 addresses parse to their numeric value', () => {
  assert.deepEqual(parseIpAddress('10.1.2.3'), { family: 4, value: 0x0a010203n });
  assert.deepEqual(parseIpAddress('::1'), { family: 6, value: 1n });
  assert.deepEqual(parseIpAddress('[fd00::]'), { family: 6, value: 0xfdn << 120n });
  assert.deepEqual(parseIpAddress('::ffff:10.0.0.1'), { family: 4, value: 0x0a000001n });
  assert.deepEqual(parseIpAddress('64:ff9b::1.2.3.4'), {
    family: 6,
    value: (0x64n << 112n) | (0xff9bn << 96n) | 0x01020304n,
  });
});

test('host names and malformed addresses are not addresses', () => {
  for (const text of [
    'db.corp.internal',
    '10.0.0',
    '10.0.0.256',
    '01.2.3.4',
    '1::2::3',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    'g::1',
    '1:2:3:4:5:6:7::8',
  ]) {
    assert.equal(parseIpAddress(text), undefined, text);
  }
});

test('the parser agrees with node:net on random IPv6 texts (property)', () => {
  fc.assert(
    fc.property(fc.ipV6(), (text) => {
      const parsed = parseIpAddress(text);
      return isIP(text) === 6 && parsed !== undefined;
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.ipV4(), (text) => parseIpAddress(text)?.family === 4),
    { numRuns: 200 },
  );
});

test('networks hold exactly the addresses that share their prefix', () => {
  const net = parseCidr('10.1.255.255/16');
  assert.deepEqual(net, { family: 4, network: 0x0a010000n, prefix: 16 });
  const a = (t: string) => parseIpAddress(t) ?? assert.fail(t);
  assert.equal(networkContains(net, a('10.1.0.0')), true);
  assert.equal(networkContains(net, a('10.1.255.255')), true);
  assert.equal(networkContains(net, a('10.2.0.0')), false);
  const v6 = parseCidr('2001:db8::/32') ?? assert.fail('v6');
  assert.equal(networkContains(v6, a('2001:db8:ffff::1')), true);
  assert.equal(networkContains(v6, a('2001:db9::')), false);
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('10.0.0.0'), undefined);
  assert.equal(parseCidr('10.0.0.0/'), undefined);
});
