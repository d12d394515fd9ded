import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Clock } from '../../core/index.js';
import { openMemoryStore, type ChangeFeed, type Store } from '../../store/index.js';
import type { BrowserSession, PendingLogin } from './session-store.js';
import { SqlSessionStore } from './sql-session-store.js';
import { revokeUser } from './user-revocations.js';

function manualClock(): Clock & { advance(ms: number): void } {
  let now = Date.UTC(2030, 0, 1);
  return {
    now: () => now,
    monotonic: () => now,
    setTimeout: () => ({}),
    clearTimeout: () => undefined,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** A feed that loses every notification: only the revalidation bound protects the cache. */
const silentFeed: ChangeFeed = {
  scope: 'cluster',
  publish: () => Promise.resolve(),
  subscribe: () => () => undefined,
};

const session = (key: string, at: number, virtualServer = 'app'): BrowserSession => ({
  key,
  virtualServer,
  identity: { subject: 'alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' },
  authenticatedAt: at,
  lastSeenAt: at,
});

/** Resolves once queued microtasks (the in-process change feed) have run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SqlSessionStore', () => {
  let store: Store;
  let clock: ReturnType<typeof manualClock>;
  const opened: SqlSessionStore[] = [];
  const open = (over: Store = store, revalidateMs = 2000): SqlSessionStore => {
    const s = new SqlSessionStore(over, { clock, revalidateMs, origin: `edge-${opened.length}` });
    opened.push(s);
    return s;
  };
  beforeEach(async () => {
    clock = manualClock();
    store = await openMemoryStore({ clock });
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) s.close();
    await store.close();
  });

  test('a session made through one edge is found through another, identity intact', async () => {
    const a = open();
    const b = open();
    await a.createSession(session('k1', clock.now()));
    assert.deepEqual(await b.getSession('k1'), session('k1', clock.now()));
    assert.equal(await b.getSession('nope'), undefined);
  });

  test('a logout on one edge ends the session on another at once when notified', async () => {
    const a = open();
    const b = open();
    await a.createSession(session('k1', clock.now()));
    assert.ok(await b.getSession('k1'));
    assert.equal(b.cached, 1);
    await a.deleteSession('k1');
    await settle();
    assert.equal(b.cached, 0);
    assert.equal(await b.getSession('k1'), undefined);
  });

  test('session ends announced by another edge (a logout, a revocation) are marked on every edge', async () => {
    const a = open();
    const b = open();
    await a.createSession(session('k1', clock.now()));
    await a.createSession(session('k2', clock.now()));
    const mark = b.ends.mark();
    assert.equal(b.ends.endedAfter('k1', mark), false);
    await a.deleteSession('k1');
    await settle();
    assert.equal(b.ends.endedAfter('k1', mark), true, 'the end reached the other edge');
    assert.equal(b.ends.endedAfter('k2', mark), false, 'other sessions are not marked');
    assert.equal(b.ends.endedAfter('k1', b.ends.mark()), false, 'not after a later mark');
    await revokeUser(store, { idp: 'corp', subject: 'alice' }, { clock });
    await settle();
    assert.equal(b.ends.endedAfter('k2', mark), true, "the revocation ended alice's session");
    const later = b.ends.mark();
    await store.changes.publish({ topic: 'resync', origin: 'test' });
    await settle();
    assert.equal(
      b.ends.endedAfter('k3', later),
      true,
      'lost notifications: anything may have ended',
    );
  });

  test('without a notification, a cached session is dropped within revalidateMs of a logout', async () => {
    const deaf: Store = { ...store, changes: silentFeed };
    const a = open(deaf);
    const b = open(deaf, 2000);
    await a.createSession(session('k1', clock.now()));
    assert.ok(await b.getSession('k1'));
    await a.deleteSession('k1');
    clock.advance(1999);
    assert.ok(await b.getSession('k1'), 'still cached inside the bound');
    clock.advance(1);
    assert.equal(await b.getSession('k1'), undefined, 'gone once the bound has passed');
    assert.equal(b.cached, 0);
  });

  test('a miss is never cached: a session created elsewhere after a miss is found', async () => {
    const deaf: Store = { ...store, changes: silentFeed };
    const a = open(deaf);
    const b = open(deaf);
    assert.equal(await b.getSession('k1'), undefined);
    await a.createSession(session('k1', clock.now()));
    assert.equal((await b.getSession('k1'))?.key, 'k1');
  });

  test('touch reaches the store and the cache; a deleted session stays deleted', async () => {
    const a = open();
    const t = clock.now();
    await a.createSession(session('k1', t));
    await a.touchSession('k1', t + 60_000);
    assert.equal((await a.getSession('k1'))?.lastSeenAt, t + 60_000);
    assert.equal((await store.sessions.getSession('k1'))?.lastSeenAt, t + 60_000);
    await a.deleteSession('k1');
    await a.touchSession('k1', t + 120_000);
    assert.equal(await a.getSession('k1'), undefined);
  });

  test('a pending login is taken once across edges, with every field kept', async () => {
    const a = open();
    const b = open();
    const login: PendingLogin = {
      key: 'state-hash',
      kind: 'browser',
      identityProvider: 'corp',
      nonce: 'n',
      codeVerifier: 'v',
      redirectUri: 'https://app.example/.postern/callback',
      virtualServer: 'app',
      returnTo: '/x?y=1',
      expiresAt: clock.now() + 600_000,
    };
    await a.putPendingLogin(login);
    assert.deepEqual(await b.takePendingLogin('state-hash'), login);
    assert.equal(await a.takePendingLogin('state-hash'), undefined);
  });

  test('sweep removes sessions past their server timeouts and keeps the rest', async () => {
    const a = open();
    const t = clock.now();
    await a.createSession(session('idle', t, 'short'));
    await a.createSession(session('busy', t, 'short'));
    await a.createSession(session('unknown-server', t, 'other'));
    clock.advance(20 * 60_000);
    await a.touchSession('busy', clock.now());
    clock.advance(15 * 60_000);
    const timeouts = new Map([
      ['short', { idleTimeoutMs: 30 * 60_000, reauthenticationTimeoutMs: 86_400_000 }],
    ]);
    assert.equal(await a.sweep(timeouts), 1);
    assert.equal(await store.sessions.getSession('idle'), undefined);
    assert.ok(await store.sessions.getSession('busy'));
    assert.ok(await store.sessions.getSession('unknown-server'), 'other edges may know it');
  });

  test('the provider auth_time is kept with the session and read back on another edge', async () => {
    const a = open();
    const b = open();
    const withAuthTime = { ...session('k1', clock.now()), authTime: clock.now() - 7 * 3_600_000 };
    await a.createSession(withAuthTime);
    assert.deepEqual(await b.getSession('k1'), withAuthTime);
  });

  test('revoking a user deletes their sessions on every edge at once and is seen by every edge', async () => {
    const a = open();
    const b = open();
    await a.createSession(session('k1', clock.now()));
    await a.createSession({
      ...session('k2', clock.now()),
      identity: { subject: 'bob', groups: [], idp: 'corp' },
    });
    assert.ok(await b.getSession('k1'));
    const alice = { idp: 'corp', subject: 'alice' };
    assert.equal(await b.userNotBefore(alice), undefined, 'never revoked (cached)');
    clock.advance(1000);
    const revoked = await revokeUser(store, alice, { clock });
    assert.deepEqual(revoked, { ...alice, notBefore: clock.now(), sessions: 1 });
    await settle();
    assert.equal(await b.getSession('k1'), undefined, 'its cached copy went with the notice');
    assert.ok(await b.getSession('k2'), "other users' sessions stay");
    assert.equal(await b.userNotBefore(alice), clock.now(), 'the cached miss went too');
  });

  test('without a notification, a revocation is seen within revalidateMs', async () => {
    const deaf: Store = { ...store, changes: silentFeed };
    const b = open(deaf, 2000);
    const alice = { idp: 'corp', subject: 'alice' };
    assert.equal(await b.userNotBefore(alice), undefined);
    await revokeUser(deaf, alice, { clock });
    const at = clock.now();
    clock.advance(1999);
    assert.equal(await b.userNotBefore(alice), undefined, 'cached for up to revalidateMs');
    clock.advance(1);
    assert.equal(await b.userNotBefore(alice), at);
  });
});
