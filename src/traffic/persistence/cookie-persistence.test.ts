import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeToken, setCookieHeader, tokenFromCookie } from './cookie-persistence.js';

test('a node token is stable, differs per node and per pool, and hides the address', () => {
  const token = nodeToken('web', '10.0.0.5:8080');
  assert.equal(token, nodeToken('web', '10.0.0.5:8080'));
  assert.notEqual(token, nodeToken('web', '10.0.0.6:8080'));
  assert.notEqual(token, nodeToken('api', '10.0.0.5:8080'));
  assert.match(token, /^[A-Za-z0-9_-]{22}$/);
  assert.ok(!token.includes('10.0.0.5'));
});

test('a keyed node token is the same for the same key and differs with another key or none', () => {
  const key = Buffer.alloc(32, 1);
  const token = nodeToken('web', '10.0.0.5:8080', key);
  assert.equal(token, nodeToken('web', '10.0.0.5:8080', Buffer.alloc(32, 1)));
  assert.notEqual(token, nodeToken('web', '10.0.0.5:8080', Buffer.alloc(32, 2)));
  assert.notEqual(token, nodeToken('web', '10.0.0.5:8080'));
  assert.match(token, /^[A-Za-z0-9_-]{22}$/);
});

test('the Set-Cookie value names the cookie, the token and a Max-Age from the TTL', () => {
  assert.equal(
    setCookieHeader({ cookieName: 'AFF', ttlMs: 3_600_000 }, 'tok'),
    'AFF=tok; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600',
  );
  assert.equal(
    setCookieHeader({ cookieName: 'AFF' }, 'tok'),
    'AFF=tok; Path=/; HttpOnly; SameSite=Lax',
  );
});

test('the token is found in a whole Cookie header or taken as a bare value', () => {
  assert.equal(tokenFromCookie('AFF', 'a=1; AFF=tok123; b=2'), 'tok123');
  assert.equal(tokenFromCookie('AFF', 'AFF=tok123'), 'tok123');
  assert.equal(tokenFromCookie('AFF', 'XAFF=nope; b=2'), undefined);
  assert.equal(tokenFromCookie('AFF', 'tok123'), 'tok123');
  assert.equal(tokenFromCookie('AFF', ''), undefined);
});
