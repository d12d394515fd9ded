import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeProxyHeader } from './proxy-header.js';
import { parseSeenHeader } from './test-proxy-node.js';

const client = { address: '192.0.2.10', port: 40_001 };
const listener = { address: '198.51.100.7', port: 443 };

test('v1 names IPv4 ends as TCP4 in the text line the spec gives', () => {
  const header = encodeProxyHeader('v1', client, listener);
  assert.equal(header.toString('latin1'), 'PROXY TCP4 192.0.2.10 198.51.100.7 40001 443\r\n');
});

test('v2 names IPv4 ends as PROXY/INET/STREAM with a 12-byte address block', () => {
  const header = encodeProxyHeader('v2', client, listener);
  assert.equal(
    header.toString('hex'),
    '0d0a0d0a000d0a515549540a' + '21' + '11' + '000c' + 'c000020a' + 'c6336407' + '9c41' + '01bb',
  );
});

test('v2 writes IPv6 ends in 16 bytes each, whatever their textual form', () => {
  const header = encodeProxyHeader(
    'v2',
    { address: '2001:db8::1%eth0', port: 1 },
    { address: '::ffff:0:1.2.3.4', port: 2 },
  );
  assert.equal(header.length, 16 + 36);
  assert.equal(header.subarray(12, 16).toString('hex'), '21210024');
  assert.equal(header.subarray(16, 32).toString('hex'), '20010db8000000000000000000000001');
  assert.equal(header.subarray(32, 48).toString('hex'), '0000000000000000ffff000001020304');
  assert.equal(header.subarray(48).toString('hex'), '00010002');
});

test('IPv4-mapped IPv6 ends (a dual-stack listener) are sent as TCP4', () => {
  const header = encodeProxyHeader(
    'v1',
    { address: '::ffff:10.0.0.1', port: 5 },
    { address: '::FFFF:10.0.0.2', port: 6 },
  );
  assert.equal(header.toString('latin1'), 'PROXY TCP4 10.0.0.1 10.0.0.2 5 6\r\n');
});

test('one IPv4 and one IPv6 end are both sent as IPv6, the IPv4 one mapped', () => {
  const v1 = encodeProxyHeader('v1', { address: '10.0.0.1', port: 5 }, { address: '::1', port: 6 });
  assert.equal(v1.toString('latin1'), 'PROXY TCP6 ::ffff:10.0.0.1 ::1 5 6\r\n');
  const v2 = parseSeenHeader(
    encodeProxyHeader('v2', { address: '10.0.0.1', port: 5 }, { address: '::1', port: 6 }),
  );
  assert.notEqual(v2, 'more');
  assert.deepEqual(v2 !== 'more' && v2.header, {
    version: 2,
    family: 'TCP6',
    source: '0:0:0:0:0:ffff:a00:1',
    destination: '0:0:0:0:0:0:0:1',
    sourcePort: 5,
    destinationPort: 6,
  });
});

test('unknown ends give UNKNOWN (v1) and an UNSPEC block of length 0 (v2)', () => {
  const gone = { address: undefined, port: undefined };
  assert.equal(encodeProxyHeader('v1', gone, listener).toString('latin1'), 'PROXY UNKNOWN\r\n');
  const v2 = encodeProxyHeader('v2', client, gone);
  assert.equal(v2.toString('hex'), '0d0a0d0a000d0a515549540a' + '21' + '00' + '0000');
  const notIp = { address: 'localhost', port: 80 };
  assert.equal(encodeProxyHeader('v1', notIp, listener).toString('latin1'), 'PROXY UNKNOWN\r\n');
});

test('a v1 line stays within the 107 bytes the spec allows, for the longest addresses', () => {
  const long = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
  const header = encodeProxyHeader(
    'v1',
    { address: long, port: 65_535 },
    { address: long, port: 65_535 },
  );
  assert.equal(header.length, 104);
  assert.ok(header.length <= 107);
});
