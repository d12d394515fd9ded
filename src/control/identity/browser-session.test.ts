import test from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/index.js';
import { safeReturnPath } from './auth-pages.js';
import {
  BrowserSessions,
  cookie,
  readCookie,
  secretKey,
  sessionCookieName,
} from './browser-session.js';
import { MemorySessionStore } from './session-store.js';

const alice = { subject: 'u-1', email: 'alice@example.com', groups: ['eng'], idp: 'corp' };
const timeouts = { idleTimeoutMs: 1_800_000, reauthenticationTimeoutMs: 86_400_000 };

test('a session is found by its cookie on its own virtual server only', async () => {
  const store = new MemorySessionStore();
  const sessions = new BrowserSessions(store, new FakeClock(0));
  const secret = await sessions.create(alice, 'wiki');
  const found = await sessions.check(secret, 'wiki', timeouts);
  assert.ok('session' in found);
  assert.deepEqual(found.session.identity, alice);
  assert.deepEqual(await sessions.check(secret, 'crm', timeouts), { miss: 'other_server' });
  assert.deepEqual(await sessions.check('forged', 'wiki', timeouts), { miss: 'unknown' });
  assert.deepEqual(await sessions.check(undefined, 'wiki', timeouts), { miss: 'none' });
  assert.equal(await store.getSession(secret), undefined, 'the store holds a hash, not the cookie');
  assert.ok(await store.getSession(secretKey(secret)));
});

test('a session unused for the idle timeout ends, and activity keeps it alive', async () => {
  const clock = new FakeClock(0);
  const sessions = new BrowserSessions(new MemorySessionStore(), clock);
  const secret = await sessions.create(alice, 'wiki');
  clock.advance(1_700_000);
  assert.ok('session' in (await sessions.check(secret, 'wiki', timeouts)));
  clock.advance(1_700_000);
  assert.ok('session' in (await sessions.check(secret, 'wiki', timeouts)), 'touched 28 min ago');
  clock.advance(1_800_000);
  assert.deepEqual(await sessions.check(secret, 'wiki', timeouts), { miss: 'idle' });
  assert.deepEqual(await sessions.check(secret, 'wiki', timeouts), { miss: 'unknown' });
});

test('a session made with another identity provider than the server names now is refused and ended', async () => {
  const store = new MemorySessionStore();
  const sessions = new BrowserSessions(store, new FakeClock(0));
  const secret = await sessions.create(alice, 'wiki');
  const corp = { ...timeouts, identityProvider: 'corp' };
  assert.ok('session' in (await sessions.check(secret, 'wiki', corp)));
  const ext = { ...timeouts, identityProvider: 'ext' };
  assert.deepEqual(await sessions.check(secret, 'wiki', ext), { miss: 'other_provider' });
  // Ended for good: switching the server back does not revive it.
  assert.deepEqual(await sessions.check(secret, 'wiki', corp), { miss: 'unknown' });
  assert.equal(store.size, 0);
});

test('each virtual server has its own __Host- session cookie name, distinct for distinct names', () => {
  assert.equal(sessionCookieName('wiki'), '__Host-postern-session-wiki');
  assert.equal(sessionCookieName('wiki-2'), '__Host-postern-session-wiki-2');
  assert.notEqual(sessionCookieName('a.b'), sessionCookieName('a_2eb'));
  const names = ['wiki', 'crm', 'a b', 'é', 'x;y=z', 'A_1'].map(sessionCookieName);
  assert.equal(new Set(names).size, names.length);
  for (const name of names) assert.match(name, /^__Host-postern-session-[A-Za-z0-9_-]+$/);
});

test('a session must re-authenticate after the re-authentication timeout however busy', async () => {
  const clock = new FakeClock(0);
  const sessions = new BrowserSessions(new MemorySessionStore(), clock);
  const secret = await sessions.create(alice, 'wiki');
  const busy = { idleTimeoutMs: 0, reauthenticationTimeoutMs: 3_600_000 };
  for (let i = 0; i < 5; i++) {
    clock.advance(600_000);
    assert.ok('session' in (await sessions.check(secret, 'wiki', busy)));
  }
  clock.advance(600_000);
  assert.deepEqual(await sessions.check(secret, 'wiki', busy), { miss: 'reauthenticate' });
});

test('an ended session cannot be brought back by replaying its cookie', async () => {
  const sessions = new BrowserSessions(new MemorySessionStore(), new FakeClock(0));
  const secret = await sessions.create(alice, 'wiki');
  await sessions.end(secret);
  assert.deepEqual(await sessions.check(secret, 'wiki', timeouts), { miss: 'unknown' });
});

test('the in-memory store drops the least recently used sessions beyond its limit', async () => {
  const store = new MemorySessionStore({ maxSessions: 2 });
  const sessions = new BrowserSessions(store, new FakeClock(0));
  const a = await sessions.create(alice, 'wiki');
  const b = await sessions.create(alice, 'wiki');
  await store.touchSession(secretKey(a), 1);
  await sessions.create(alice, 'wiki');
  assert.equal(store.size, 2);
  assert.ok('session' in (await sessions.check(a, 'wiki', timeouts)));
  assert.deepEqual(await sessions.check(b, 'wiki', timeouts), { miss: 'unknown' });
});

test('pending logins can be taken once', async () => {
  const store = new MemorySessionStore();
  const login = {
    key: 'k',
    kind: 'browser' as const,
    identityProvider: 'corp',
    nonce: 'n',
    codeVerifier: 'v',
    redirectUri: 'https://x/.postern/auth/callback',
    returnTo: '/',
    expiresAt: 1,
  };
  await store.putPendingLogin(login);
  assert.deepEqual(await store.takePendingLogin('k'), login);
  assert.equal(await store.takePendingLogin('k'), undefined);
});

test('cookies are host-only, Secure, HttpOnly and SameSite=Lax, and are read by name', () => {
  assert.equal(
    cookie('__Host-postern-session', 'abc'),
    '__Host-postern-session=abc; Path=/; Secure; HttpOnly; SameSite=Lax',
  );
  assert.match(cookie('x', '', 0), /Max-Age=0$/);
  const header = 'a=1; __Host-postern-session=s3cret; b=2; __Host-postern-login=st';
  assert.equal(readCookie(header, '__Host-postern-session'), 's3cret');
  assert.equal(readCookie(header, 'c'), undefined);
});

test('only same-site paths are places to return to after login', () => {
  assert.equal(safeReturnPath('/docs?x=1'), '/docs?x=1');
  for (const evil of [
    '//evil.example/',
    '/\\evil.example',
    'https://evil.example/',
    '/.postern/auth/logout',
    '/a\r\nb',
  ]) {
    assert.equal(safeReturnPath(evil), '/', evil);
  }
});

test('the reauthentication deadline runs from the provider auth_time, not the Postern login', async () => {
  const hour = 3_600_000;
  const clock = new FakeClock(10 * hour);
  const sessions = new BrowserSessions(new MemorySessionStore(), clock);
  const eightHours = { idleTimeoutMs: 0, reauthenticationTimeoutMs: 8 * hour };
  // The provider's own session began 7 h ago; a Postern login now rides on it.
  const fromSso = await sessions.create(alice, 'wiki', { authTime: clock.now() - 7 * hour });
  const fresh = await sessions.create(alice, 'wiki', { authTime: clock.now() });
  clock.advance(hour - 1000);
  assert.ok('session' in (await sessions.check(fromSso, 'wiki', eightHours)));
  clock.advance(1000);
  assert.deepEqual(await sessions.check(fromSso, 'wiki', eightHours), { miss: 'reauthenticate' });
  assert.ok('session' in (await sessions.check(fresh, 'wiki', eightHours)), '7 h left');
});

test('an auth_time in the future counts as now', async () => {
  const clock = new FakeClock(1_000_000);
  const sessions = new BrowserSessions(new MemorySessionStore(), clock);
  const secret = await sessions.create(alice, 'wiki', { authTime: clock.now() + 3_600_000 });
  clock.advance(86_400_000);
  assert.deepEqual(await sessions.check(secret, 'wiki', timeouts), { miss: 'reauthenticate' });
});

test('a session begun before its user was revoked is refused and ended; a later one is good', async () => {
  const clock = new FakeClock(1_000_000);
  const notBefore = new Map<string, number>();
  const store = new MemorySessionStore();
  const revocable = Object.assign(store, {
    userNotBefore: (u: { idp: string; subject: string }) =>
      Promise.resolve(notBefore.get(`${u.idp}/${u.subject}`)),
  });
  const sessions = new BrowserSessions(revocable, clock);
  const before = await sessions.create(alice, 'wiki');
  const bob = await sessions.create({ ...alice, subject: 'u-2' }, 'wiki');
  clock.advance(1000);
  notBefore.set('corp/u-1', clock.now());
  assert.deepEqual(await sessions.check(before, 'wiki', timeouts), { miss: 'revoked' });
  assert.deepEqual(await sessions.check(before, 'wiki', timeouts), { miss: 'unknown' });
  assert.ok('session' in (await sessions.check(bob, 'wiki', timeouts)), 'other users keep theirs');
  clock.advance(1);
  const after = await sessions.create(alice, 'wiki');
  assert.ok('session' in (await sessions.check(after, 'wiki', timeouts)));
});
