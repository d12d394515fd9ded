import assert from 'node:assert/strict';
import test from 'node:test';
import { expiredLoginAt, loginExpiredMessage, tokenExpiry } from './tcp-expiry.js';

const jwt = (claims: Record<string, unknown>): string =>
  ['{"alg":"ES256"}', JSON.stringify(claims)]
    .map((part) => Buffer.from(part).toString('base64url'))
    .concat('sig')
    .join('.');

test("a token's exp is read in milliseconds; malformed tokens or ones without exp give none", () => {
  assert.equal(tokenExpiry(jwt({ sub: 's', exp: 1_700_000_100 })), 1_700_000_100_000);
  assert.equal(tokenExpiry(jwt({ sub: 's' })), undefined);
  assert.equal(tokenExpiry(jwt({ exp: '1700000100' })), undefined);
  assert.equal(tokenExpiry('not-a-token'), undefined);
  assert.equal(tokenExpiry('a.%%%.c'), undefined);
  assert.equal(tokenExpiry(`a.${Buffer.from('null').toString('base64url')}.c`), undefined);
});

test('a close at or near the expiry (30 s of clock difference) is the login expiring; an earlier one is not', () => {
  const token = jwt({ exp: 1_700_000_100 });
  const exp = 1_700_000_100_000;
  assert.equal(expiredLoginAt(token, exp), exp);
  assert.equal(expiredLoginAt(token, exp + 3600_000), exp);
  assert.equal(expiredLoginAt(token, exp - 30_000), exp);
  assert.equal(expiredLoginAt(token, exp - 30_001), undefined);
  assert.equal(expiredLoginAt(jwt({ sub: 's' }), exp), undefined);
});

test('the message is one line naming the expiry and the login command for this edge', () => {
  const line = loginExpiredMessage('https://edge.example.com:8444', Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(line.includes('\n'), false);
  assert.match(line, /login expired \(2026-01-02T03:04:05\.000Z\)/);
  assert.match(line, /log in again: postern login --edge https:\/\/edge\.example\.com:8444$/);
});
