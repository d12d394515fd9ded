// Part of the store conformance suite (store-conformance.ts): browser sessions, pending logins
// and an admin's connector drain, which every edge of an HA set shares through the store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../core/index.js';
import type { Store, StoredBrowserSession } from './store.js';

/** What the session tests need from the suite: a fresh store and its manual clock. */
export interface SessionTestContext {
  store: Store;
  time: { clock: Clock; advance(ms: number): void };
}

const session = (key: string, at: number, virtualServer = 'app'): StoredBrowserSession => ({
  key,
  virtualServer,
  identity: { subject: `user-${key}`, groups: ['eng', 'ops'], email: null },
  authenticatedAt: at,
  lastSeenAt: at,
});

/** Registers the session, pending login and drain tests every backend must pass. */
export function sessionTests(ctx: SessionTestContext): void {
  test('sessions: create, get, touch forward only, delete for good', async () => {
    const s = ctx.store.sessions;
    const t = ctx.time.clock.now();
    await s.createSession(session('k1', t));
    assert.deepEqual(await s.getSession('k1'), session('k1', t));
    assert.equal(await s.getSession('k2'), undefined);
    await s.touchSession('k1', t + 5000);
    await s.touchSession('k1', t + 1000);
    await s.touchSession('missing', t + 1000);
    assert.equal((await s.getSession('k1'))?.lastSeenAt, t + 5000);
    assert.equal(await s.deleteSession('k1'), true);
    assert.equal(await s.deleteSession('k1'), false);
    assert.equal(await s.getSession('k1'), undefined);
    await s.touchSession('k1', t + 9000);
    assert.equal(await s.getSession('k1'), undefined, 'a touch does not bring a session back');
  });

  test('pending logins: a state can be taken once, even by two concurrent takers', async () => {
    const s = ctx.store.sessions;
    const login = { key: 'st', login: { nonce: 'n', returnTo: '/x' }, expiresAt: 123_456 };
    await s.putPendingLogin(login);
    const taken = await Promise.all([s.takePendingLogin('st'), s.takePendingLogin('st')]);
    assert.deepEqual(
      taken.filter((t) => t !== undefined),
      [login],
    );
    assert.equal(await s.takePendingLogin('st'), undefined);
  });

  test('sweep deletes expired pending logins and sessions past the global or per-server bounds', async () => {
    const s = ctx.store.sessions;
    const t0 = ctx.time.clock.now();
    await s.createSession(session('old', t0));
    await s.createSession(session('idle', t0 + 1000, 'short'));
    await s.createSession(session('fresh', t0 + 1000, 'short'));
    await s.touchSession('fresh', t0 + 9000);
    await s.createSession(session('other', t0 + 1000, 'long'));
    await s.putPendingLogin({ key: 'p-old', login: {}, expiresAt: t0 + 5000 });
    await s.putPendingLogin({ key: 'p-new', login: {}, expiresAt: t0 + 50_000 });
    const swept = await s.sweep({
      now: t0 + 10_000,
      authenticatedBefore: t0 + 500,
      servers: [
        { virtualServer: 'short', authenticatedBefore: t0, lastSeenBefore: t0 + 5000 },
        { virtualServer: 'long', authenticatedBefore: t0 },
      ],
    });
    assert.deepEqual(swept, { sessions: 2, pendingLogins: 1 });
    const left = await Promise.all(['old', 'idle', 'fresh', 'other'].map((k) => s.getSession(k)));
    assert.deepEqual(
      left.map((x) => x?.key),
      [undefined, undefined, 'fresh', 'other'],
    );
    assert.equal((await s.takePendingLogin('p-new'))?.key, 'p-new');
  });

  test('sessions keep the provider auth_time, and a sweep runs the reauthentication bound from it', async () => {
    const s = ctx.store.sessions;
    const t0 = ctx.time.clock.now();
    // Logged in to Postern now from a provider session that began 7 s earlier.
    await s.createSession({ ...session('sso', t0), authTime: t0 - 7000 });
    await s.createSession(session('plain', t0));
    assert.equal((await s.getSession('sso'))?.authTime, t0 - 7000);
    assert.equal('authTime' in ((await s.getSession('plain')) ?? {}), false);
    const swept = await s.sweep({
      now: t0,
      authenticatedBefore: t0 - 60_000,
      servers: [{ virtualServer: 'app', authenticatedBefore: t0 - 5000 }],
    });
    assert.equal(swept.sessions, 1);
    assert.equal(await s.getSession('sso'), undefined);
    assert.equal((await s.getSession('plain'))?.key, 'plain');
  });

  test("sessions keep the login's ID token (for the provider logout) and delete it with the session", async () => {
    const s = ctx.store.sessions;
    const t = ctx.time.clock.now();
    const idToken = `eyJhbGciOiJSUzI1NiJ9.${'x'.repeat(1500)}.sig`;
    await s.createSession({ ...session('with-token', t), idToken });
    await s.createSession(session('without', t));
    assert.equal((await s.getSession('with-token'))?.idToken, idToken);
    assert.equal('idToken' in ((await s.getSession('without')) ?? {}), false);
    await s.deleteSession('with-token');
    assert.equal(await s.getSession('with-token'), undefined);
    await s.createSession(session('with-token', t));
    assert.equal('idToken' in ((await s.getSession('with-token')) ?? {}), false, 'nothing left');
  });

  test('deleteUserSessions deletes every session of one user, on every server, and only theirs', async () => {
    const s = ctx.store.sessions;
    const t = ctx.time.clock.now();
    const of = (key: string, idp: string, subject: string, vs = 'app'): StoredBrowserSession => ({
      ...session(key, t, vs),
      identity: { subject, idp, groups: [] },
    });
    await s.createSession(of('a1', 'corp', 'alice'));
    await s.createSession(of('a2', 'corp', 'alice', 'wiki'));
    await s.createSession(of('a3', 'other', 'alice'));
    await s.createSession(of('b1', 'corp', 'bob'));
    const deleted = await s.deleteUserSessions({ idp: 'corp', subject: 'alice' });
    assert.deepEqual(deleted.sort(), ['a1', 'a2']);
    const left = await Promise.all(['a1', 'a2', 'a3', 'b1'].map((k) => s.getSession(k)));
    assert.deepEqual(
      left.map((x) => x?.key),
      [undefined, undefined, 'a3', 'b1'],
    );
    assert.deepEqual(await s.deleteUserSessions({ idp: 'corp', subject: 'alice' }), []);
  });

  test('sessions are not in a snapshot, and a replacing restore ends them', async () => {
    const s = ctx.store.sessions;
    await s.createSession(session('k', ctx.time.clock.now()));
    const snap = await ctx.store.snapshot.read();
    assert.equal(JSON.stringify(snap).includes('user-k'), false);
    // Sessions do not make a store non-empty for a restore…
    await ctx.store.snapshot.write(snap);
    assert.equal((await s.getSession('k'))?.key, 'k');
    // …and a replacing restore deletes them.
    await ctx.store.snapshot.write(snap, { replace: true });
    assert.equal(await s.getSession('k'), undefined);
  });

  test('connectors: setDraining keeps the first drain time, clears it, and list filters on it', async () => {
    const store = ctx.store;
    await store.groups.create({ name: 'g' });
    await store.provisioningKeys.create({ id: 'k', group: 'g', secretHash: 'h' });
    const base = { group: 'g', keyId: 'k', ephemeral: false, certSerial: 's', certNotAfter: 1 };
    await store.connectors.create({ id: 'c1', ...base });
    await store.connectors.create({ id: 'c2', ...base });
    const t = ctx.time.clock.now();
    assert.equal((await store.connectors.setDraining('c1', true)).drainingSince, t);
    ctx.time.advance(1000);
    assert.equal((await store.connectors.setDraining('c1', true)).drainingSince, t);
    assert.deepEqual(
      (await store.connectors.list({ draining: true })).map((c) => c.id),
      ['c1'],
    );
    assert.deepEqual(
      (await store.connectors.list({ draining: false })).map((c) => c.id),
      ['c2'],
    );
    const snap = await store.snapshot.read();
    assert.equal(snap.connectors.find((c) => c.id === 'c1')?.drainingSince, t);
    const cleared = await store.connectors.setDraining('c1', false);
    assert.equal('drainingSince' in cleared, false);
    assert.deepEqual(await store.connectors.list({ draining: true }), []);
    await assert.rejects(store.connectors.setDraining('nope', true), {
      code: 'POSTERN_ERR_NOT_FOUND',
    });
  });
}
