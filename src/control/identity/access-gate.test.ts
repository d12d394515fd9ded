import test from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { Configuration, VirtualServer } from '../../config/index.js';
import { FakeClock } from '../../core/index.js';
import { openMemoryStore } from '../../store/index.js';
import type { AccessGate, AccessGateRequest, AccessGateResult } from '../../traffic/index.js';
import type { AccessDecisionEntry } from './access-gate.js';
import { BrowserAccess } from './browser-access.js';
import { secretKey } from './browser-session.js';
import { MemorySessionStore } from './session-store.js';
import { SqlSessionStore } from './sql-session-store.js';
import { revokeUser } from './user-revocations.js';
import type { AuthorizationChecks, OidcClient } from './oidc-client.js';
import { fakeProvider as kitProvider, wikiConfig, wikiServer } from './test-access-kit.js';
import { UserTokenAuthority } from './user-token.js';

const HOUR = 3_600_000;

/** Whether the fake provider publishes an end_session_endpoint (RP-initiated logout). */
const providerLogout = { enabled: false };

/** The provider stand-in, recording the checks it was given. */
const fakeProvider = (redeemed: AuthorizationChecks[]): OidcClient =>
  kitProvider({ redeemed, logout: providerLogout });

const vs = wikiServer({ identityHeaders: true, assertion: true });
const config = wikiConfig;

async function setUp() {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'postern-edge',
    clock,
  });
  const redeemed: AuthorizationChecks[] = [];
  const decisions: AccessDecisionEntry[] = [];
  const store = new MemorySessionStore();
  const access = new BrowserAccess({
    authority,
    clock,
    store,
    discover: () => Promise.resolve(fakeProvider(redeemed)),
    onDecision: (d) => decisions.push(d),
  });
  const gate = access.gateFor(vs, config) as AccessGate;
  return { clock, authority, gate, redeemed, decisions, access, store };
}

function request(
  target: string,
  cookie?: string,
  extra: Record<string, string> = {},
): AccessGateRequest {
  return {
    virtualServer: 'wiki',
    method: 'GET',
    target,
    host: 'wiki.example',
    headers: { ...(cookie === undefined ? {} : { cookie }), ...extra },
    clientIp: '192.0.2.7',
  };
}

function responded(result: AccessGateResult) {
  assert.ok('respond' in result, `expected a response, got ${JSON.stringify(result)}`);
  return result.respond;
}

function setCookies(result: AccessGateResult): string[] {
  const value = responded(result).headers?.['set-cookie'];
  return value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
}

/** Runs a login for `user` starting at `target`; returns the session cookie and the redirect. */
async function logIn(gate: AccessGate, target: string, user: string) {
  const start = await gate.check(request(target));
  const location = new URL(String(responded(start).headers?.['location']));
  const state = location.searchParams.get('state') ?? '';
  const loginCookie = setCookies(start)[0]?.split(';')[0] ?? '';
  const back = await gate.check(
    request(`/.postern/auth/callback?code=${user}&state=${state}`, loginCookie),
  );
  const session = setCookies(back).find((c) => c.startsWith('__Host-postern-session-wiki='));
  return { start, back, state, loginCookie, session: session?.split(';')[0] ?? '' };
}

/** The logout form's POST, as the page's button sends it (same origin, with its token). */
async function logoutPost(
  gate: AccessGate,
  session: string | undefined,
  options: { readonly csrf?: string; readonly site?: string } = {},
): Promise<AccessGateResult> {
  const page = responded(await gate.check(request('/.postern/auth/logout', session)));
  const csrf = options.csrf ?? /name="csrf" value="([^"]*)"/.exec(page.body ?? '')?.[1] ?? '';
  const body = Buffer.from(new URLSearchParams({ csrf }).toString());
  return gate.check({
    ...request('/.postern/auth/logout', session, {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': options.site ?? 'same-origin',
    }),
    method: 'POST',
    readBody: () => Promise.resolve(body),
  });
}

test('a browser without a session is sent to the provider and back to the page it asked for', async () => {
  const { gate, redeemed } = await setUp();
  const { start, back, session, state } = await logIn(gate, '/docs?page=2', 'alice');
  const location = new URL(String(responded(start).headers?.['location']));
  assert.equal(location.origin, 'https://idp.example');
  assert.equal(
    location.searchParams.get('redirect_uri'),
    'https://wiki.example/.postern/auth/callback',
  );
  assert.equal(responded(back).status, 302);
  assert.equal(responded(back).headers?.['location'], '/docs?page=2');
  assert.match(session, /^__Host-postern-session-wiki=[A-Za-z0-9_-]{43}$/);
  assert.equal(redeemed[0]?.state, state);
  assert.ok((redeemed[0]?.codeVerifier.length ?? 0) >= 43, 'a PKCE verifier was kept');
  assert.ok(redeemed[0]?.nonce, 'a nonce was kept');
});

test('an allowed user reaches the app with identity headers and a verifiable assertion', async () => {
  const { gate, authority, decisions } = await setUp();
  const { session } = await logIn(gate, '/', 'alice');
  const result = await gate.check(
    request('/', `theme=dark; ${session}`, { 'x-postern-user': 'mallory' }),
  );
  assert.ok('allow' in result);
  assert.ok(result.remove?.includes('x-postern-user'));
  assert.equal(result.headers?.['X-Postern-User'], 'alice@example.com');
  assert.equal(result.headers?.['X-Postern-Groups'], 'eng');
  // Cookies are the traffic layer's job: it removes Postern's from every request, gated or not.
  assert.equal(result.headers?.['Cookie'], undefined);
  assert.ok(!result.remove?.includes('cookie'), 'the application keeps its own cookies');
  const token = result.headers?.['X-Postern-Assertion'] ?? '';
  const { payload } = await jwtVerify(token, createLocalJWKSet(authority.jwks()), {
    audience: 'wiki',
    issuer: 'postern-edge',
    currentDate: new Date(Date.UTC(2026, 0, 1)),
  });
  assert.equal(payload.sub, 'alice');
  assert.equal(decisions.length, 1);
  assert.deepEqual(
    { ...decisions[0], time: undefined },
    {
      time: undefined,
      user: 'alice@example.com',
      groups: ['eng'],
      client_type: 'browser',
      source: '192.0.2.7',
      virtual_server: 'wiki',
      rule: 'eng',
      action: 'allow',
      reason: 'allowed by rule "eng": its groups matched',
    },
  );
});

test('a denied user gets a 403 page naming the rule and how to get access', async () => {
  const { gate, decisions } = await setUp();
  const { session } = await logIn(gate, '/', 'bob');
  const page = responded(await gate.check(request('/', session)));
  assert.equal(page.status, 403);
  assert.match(page.body ?? '', /nobody-else/);
  assert.match(page.body ?? '', /To get access/);
  assert.equal(decisions[0]?.action, 'deny');
});

test('the gate says why it answered: sign in, denied, logged out; plain pages leave it unset', async () => {
  const { gate } = await setUp();
  const reason = (result: AccessGateResult) => ('respond' in result ? result.reason : 'allowed');
  const { start, session } = await logIn(gate, '/', 'bob');
  assert.equal(reason(start), 'login_required');
  assert.equal(reason(await gate.check({ ...request('/api'), method: 'POST' })), 'login_required');
  assert.equal(reason(await gate.check(request('/', session))), 'access_denied');
  assert.equal(reason(await gate.check(request('/.postern/auth/logout', session))), undefined);
  const out = await logoutPost(gate, session);
  assert.equal(reason(out), 'logged_out');
  // The reason is the gate's, not part of the answer sent to the client.
  assert.equal('reason' in responded(out), false);
});

test('logout ends the session on the edge, so the old cookie leads to a new login', async () => {
  const { gate } = await setUp();
  const { session } = await logIn(gate, '/', 'alice');
  const out = responded(await logoutPost(gate, session));
  assert.equal(out.status, 200);
  assert.match(out.body ?? '', /Logged out/);
  // The next login asks the provider for a fresh login: its own session must not undo the logout.
  const set = [out.headers?.['set-cookie'] ?? []].flat().map(String);
  assert.ok(
    set.some((c) => /^__Host-postern-logged-out=1;.*Max-Age=600/.test(c)),
    set.join(' | '),
  );
  const replay = responded(await gate.check(request('/', session)));
  assert.equal(replay.status, 302);
  assert.match(String(replay.headers?.['location']), /^https:\/\/idp\.example\//);
});

test('a session made with the provider the server named before leads to a new login', async () => {
  const { gate, access } = await setUp();
  const { session } = await logIn(gate, '/', 'alice');
  assert.ok('allow' in (await gate.check(request('/', session))));
  const ext = { ...vs, access: { ...vs.access, identity_provider: 'ext' } } as VirtualServer;
  const withExt = {
    ...config,
    identity_providers: [{ name: 'corp' }, { name: 'ext' }],
  } as unknown as Configuration;
  const now = access.gateFor(ext, withExt) as AccessGate;
  const again = responded(await now.check(request('/', session)));
  assert.equal(again.status, 302);
  assert.match(String(again.headers?.['location']), /^https:\/\/idp\.example\//);
});

test('two login servers on one host name (other ports) keep their own sessions', async () => {
  const { gate, access } = await setUp();
  const wiki2: VirtualServer = { ...vs, name: 'wiki2' };
  const gate2 = access.gateFor(wiki2, config) as AccessGate;
  const first = await logIn(gate, '/', 'alice');
  const start = await gate2.check({ ...request('/'), virtualServer: 'wiki2' });
  const state = new URL(String(responded(start).headers?.['location'])).searchParams.get('state');
  const loginCookie = setCookies(start)[0]?.split(';')[0] ?? '';
  const cb = `/.postern/auth/callback?code=alice&state=${state}`;
  const back = await gate2.check({ ...request(cb, loginCookie), virtualServer: 'wiki2' });
  const second = setCookies(back)[0]?.split(';')[0] ?? '';
  assert.match(second, /^__Host-postern-session-wiki2=/);
  // Cookies ignore ports: the browser sends both to either server.
  const both = `${first.session}; ${second}`;
  assert.ok('allow' in (await gate.check(request('/', both))));
  assert.ok('allow' in (await gate2.check({ ...request('/', both), virtualServer: 'wiki2' })));
});

test('a callback is refused when its state is unknown, reused or from another browser', async () => {
  const { gate } = await setUp();
  const start = await gate.check(request('/'));
  const state = new URL(String(responded(start).headers?.['location'])).searchParams.get('state');
  const loginCookie = setCookies(start)[0]?.split(';')[0] ?? '';
  const cb = `/.postern/auth/callback?code=alice&state=${state}`;
  const otherBrowser = responded(await gate.check(request(cb, '__Host-postern-login=other')));
  assert.equal(otherBrowser.status, 400);
  // That attempt did not use the login up: the browser that started it finishes it, once.
  assert.equal(responded(await gate.check(request(cb, loginCookie))).status, 302);
  const replay = responded(await gate.check(request(cb, loginCookie)));
  assert.equal(replay.status, 400);
  const unknown = responded(
    await gate.check(request('/.postern/auth/callback?code=alice&state=x')),
  );
  assert.equal(unknown.status, 400);
});

test('scripts without a session get 401 instead of a redirect; the JWK set needs no session', async () => {
  const { gate, authority } = await setUp();
  const post = responded(await gate.check({ ...request('/api'), method: 'POST' }));
  assert.equal(post.status, 401);
  const jwks = responded(await gate.check(request('/.postern/jwks.json')));
  assert.deepEqual(JSON.parse(jwks.body ?? ''), authority.jwks());
});

test('the CLI login accepts only loopback callbacks and asks the user before the callback', async () => {
  const { access } = await setUp();
  const pages = access.pages;
  const base = { method: 'GET', host: 'edge.example:8444', headers: {}, secure: true };
  const pkce = `code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`;
  const evil = await pages.respond({
    ...base,
    target: `/.postern/cli/login?callback=${encodeURIComponent('https://evil.example/')}&state=${'s'.repeat(20)}&${pkce}`,
  });
  assert.equal(evil?.status, 400);
  const start = await pages.respond({
    ...base,
    target: `/.postern/cli/login?callback=${encodeURIComponent('http://127.0.0.1:5000/callback')}&state=${'s'.repeat(20)}&${pkce}`,
  });
  assert.equal(start?.status, 302);
  const state = new URL(String(start?.headers['location'])).searchParams.get('state');
  const back = await pages.respond({
    ...base,
    target: `/.postern/auth/callback?code=alice&state=${state}`,
    headers: { cookie: String([start?.headers['set-cookie'] ?? ''].flat()[0]).split(';')[0] },
  });
  // The token is handed over only after Allow, as a code (cli-login.test.ts).
  assert.equal(back?.status, 200);
  assert.equal(back?.headers['location'], undefined);
  assert.match(back?.body ?? '', /Allow a command-line login\?/);
});

test('the sweep drops idle sessions from memory and keeps live ones', async () => {
  const { gate, access, store, clock } = await setUp();
  await logIn(gate, '/', 'alice');
  clock.advance(1_000_000);
  const { session } = await logIn(gate, '/', 'alice');
  access.sweep(store);
  assert.equal(store.size, 2);
  clock.advance(1_000_000);
  access.sweep(store);
  assert.equal(store.size, 1, 'the first session was idle for 33 min');
  assert.ok('allow' in (await gate.check(request('/', session))));
  access.close();
});

/** The gate's re-check of an open connection, as the traffic layer calls it. */
function recheck(gate: AccessGate, req: AccessGateRequest): Promise<string | undefined> {
  return (
    gate as unknown as { recheck(r: AccessGateRequest): Promise<string | undefined> }
  ).recheck(req);
}

test('re-checking an open connection: allowed stays, logout ends it, a new policy revokes it', async () => {
  const { gate, access } = await setUp();
  const { session } = await logIn(gate, '/', 'alice');
  const { session: other } = await logIn(gate, '/', 'alice');
  assert.equal(await recheck(gate, request('/live', session)), undefined);
  // The store tells of session ends: the traffic layer asks every second (cheaply).
  assert.equal((gate as unknown as { recheckIntervalMs: number }).recheckIntervalMs, 1000);

  // The next generation's policy no longer allows alice on this server.
  const denying = {
    ...config,
    access_policies: [
      { name: 'nobody', action: 'deny', conditions: { virtual_servers: ['wiki'] } },
    ],
  } as unknown as Configuration;
  const next = access.gateFor(vs, denying) as AccessGate;
  assert.equal(await recheck(next, request('/live', session)), 'access_revoked');

  await logoutPost(gate, session);
  assert.equal(await recheck(gate, request('/live', session)), 'session_ended');
  assert.equal(await recheck(gate, request('/live')), 'session_ended', 'no cookie at all');
  assert.equal(await recheck(gate, request('/live', other)), undefined, 'other sessions stay');
  access.close();
});

test('an open connection whose session ended is cut at the next one-second ask, without a store read per ask', async () => {
  const { gate, access, store, clock } = await setUp();
  const { session } = await logIn(gate, '/', 'alice');
  const { session: other } = await logIn(gate, '/', 'alice');
  let reads = 0;
  const getSession = store.getSession.bind(store);
  store.getSession = (key) => {
    reads += 1;
    return getSession(key);
  };
  // The traffic layer keeps the request that opened each connection and asks with it.
  const open = request('/live', session);
  const kept = request('/live', other);
  assert.equal(await recheck(gate, open), undefined);
  assert.equal(await recheck(gate, kept), undefined);
  const afterFirst = reads;
  for (let i = 0; i < 5; i++) {
    clock.advance(1000);
    assert.equal(await recheck(gate, open), undefined);
    assert.equal(await recheck(gate, kept), undefined);
  }
  assert.equal(reads, afterFirst, 'asks between full re-checks read nothing');

  // Ended elsewhere (another edge's logout, a revocation): the next ask re-checks and cuts.
  await store.deleteSession(secretKey(session.split('=')[1] ?? ''));
  clock.advance(1000);
  assert.equal(await recheck(gate, open), 'session_ended');
  assert.equal(await recheck(gate, kept), undefined, 'the other session stays');

  // Without any end, a full re-check still comes every 30 s.
  const before = reads;
  clock.advance(30_000);
  assert.equal(await recheck(gate, kept), undefined);
  assert.equal(reads, before + 1, 'the full re-check reads the store');
  access.close();
});

test('revoked on one edge: the open connection on another edge sharing the store is cut at its next ask', async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const shared = await openMemoryStore({ clock });
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'postern-edge',
    clock,
  });
  const edge = (origin: string) => {
    const store = new SqlSessionStore(shared, { clock, origin });
    const access = new BrowserAccess({
      authority,
      clock,
      store,
      discover: () => Promise.resolve(fakeProvider([])),
    });
    return { store, access, gate: access.gateFor(vs, config) as AccessGate };
  };
  const [a, b] = [edge('edge-a'), edge('edge-b')];
  try {
    const { session } = await logIn(a.gate, '/', 'alice');
    // A WebSocket of alice's open on edge B, which the traffic layer asks about every second.
    assert.equal((b.gate as unknown as { recheckIntervalMs: number }).recheckIntervalMs, 1000);
    const open = request('/live', session);
    assert.equal(await recheck(b.gate, open), undefined);
    clock.advance(1000);
    assert.equal(await recheck(b.gate, open), undefined);
    // An admin revokes alice through edge A: the ends are announced on the store's feed.
    await revokeUser(shared, { idp: 'corp', subject: 'alice' }, { clock, origin: 'edge-a' });
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(1000);
    assert.equal(await recheck(b.gate, open), 'access_revoked', 'at the next ask, not in 30 s');
  } finally {
    for (const e of [a, b]) {
      e.access.close();
      e.store.close();
    }
    await shared.close();
  }
});

test('re-checking on a server without login keeps every connection', async () => {
  const { access } = await setUp();
  const open = { ...vs, access: { ...vs.access, login: 'none' } } as unknown as VirtualServer;
  const gate = access.gateFor(open, config) as AccessGate;
  assert.equal('recheck' in gate, false, 'the JWK-only gate has nothing to re-check');
  access.close();
});

test('a logout tells which open connections used the ended session; other answers do not', async () => {
  const { gate, access } = await setUp();
  const { session } = await logIn(gate, '/', 'alice');
  const { session: other } = await logIn(gate, '/', 'alice');
  type Ending = { endsConnections?: (r: AccessGateRequest) => boolean };
  const page = (await gate.check(request('/', session))) as Ending;
  assert.equal(page.endsConnections, undefined, 'an allowed request ends nothing');
  const asked = (await gate.check(request('/.postern/auth/logout', session))) as Ending;
  assert.equal(asked.endsConnections, undefined, 'the GET page ends nothing');
  const out = (await logoutPost(gate, session)) as Ending;
  assert.equal(typeof out.endsConnections, 'function');
  assert.equal(out.endsConnections?.(request('/live', session)), true);
  assert.equal(out.endsConnections?.(request('/live', other)), false);
  assert.equal(out.endsConnections?.(request('/live')), false);
  const anonymous = (await logoutPost(gate, undefined)) as Ending;
  assert.equal(anonymous.endsConnections, undefined, 'a logout without a session ends nothing');
  access.close();
});

test('a GET of the logout page only shows a Log out button; the session stays', async () => {
  const { gate, access } = await setUp();
  const { session } = await logIn(gate, '/', 'alice');
  const page = responded(await gate.check(request('/.postern/auth/logout', session)));
  assert.equal(page.status, 200);
  assert.match(page.body ?? '', /<form method="post" action="\/\.postern\/auth\/logout">/);
  assert.match(page.body ?? '', /<button type="submit" id="logout">Log out<\/button>/);
  assert.equal(page.headers?.['set-cookie'], undefined, 'no cookie is cleared');
  assert.ok('allow' in (await gate.check(request('/', session))), 'still logged in');
  access.close();
});

test('a logout POST from another site, or without the session-bound token, is refused', async () => {
  const { gate, access } = await setUp();
  const { session } = await logIn(gate, '/', 'alice');
  const crossSite = responded(await logoutPost(gate, session, { site: 'cross-site' }));
  assert.equal(crossSite.status, 403);
  const forged = responded(await logoutPost(gate, session, { csrf: 'guessed' }));
  assert.equal(forged.status, 403);
  const empty = responded(await logoutPost(gate, session, { csrf: '' }));
  assert.equal(empty.status, 403);
  assert.ok('allow' in (await gate.check(request('/', session))), 'still logged in');
  const put = responded(
    await gate.check({ ...request('/.postern/auth/logout', session), method: 'PUT' }),
  );
  assert.equal(put.status, 405);
  access.close();
});

test('a logout goes on to the provider logout when it has one, and the provider returns to the logged-out page', async () => {
  const { gate, access, store } = await setUp();
  providerLogout.enabled = true;
  try {
    const { session } = await logIn(gate, '/', 'alice');
    const out = responded(await logoutPost(gate, session));
    assert.equal(out.status, 303);
    const location = new URL(String(out.headers?.['location']));
    assert.equal(location.origin + location.pathname, 'https://idp.example/logout');
    assert.equal(
      location.searchParams.get('post_logout_redirect_uri'),
      'https://wiki.example/.postern/auth/logged-out',
    );
    // The login's ID token, kept with the session, tells the provider whose session ends.
    assert.equal(location.searchParams.get('id_token_hint'), 'id-token-of-alice');
    const set = [out.headers?.['set-cookie'] ?? []].flat().map(String);
    assert.ok(
      set.some((c) => c.startsWith('__Host-postern-session-wiki=;')),
      set.join(' | '),
    );
    assert.ok(
      set.some((c) => c.startsWith('__Host-postern-logged-out=1;')),
      set.join(' | '),
    );
    const replay = responded(await gate.check(request('/', session)));
    assert.equal(replay.status, 302, 'the session ended before leaving');
    assert.equal(store.size, 0, 'the ID token went with the session');
    const back = responded(await gate.check(request('/.postern/auth/logged-out')));
    assert.equal(back.status, 200);
    assert.match(back.body ?? '', /Logged out/);
  } finally {
    providerLogout.enabled = false;
    access.close();
  }
});

test('a session from a provider session 23 h old ends after 1 h under a 24 h reauthentication timeout', async () => {
  const { gate, clock, store, access } = await setUp();
  const { session } = await logIn(gate, '/', 'alice-sso');
  const { session: fresh } = await logIn(gate, '/', 'alice');
  // Used every 20 minutes, so the 30 min idle timeout never ends either session.
  for (let i = 0; i < 3; i++) {
    assert.ok('allow' in (await gate.check(request('/', session))), 'within the hour left');
    assert.ok('allow' in (await gate.check(request('/', fresh))));
    clock.advance(HOUR / 3 - 20_000);
  }
  assert.ok('allow' in (await gate.check(request('/', session))), 'a minute left');
  clock.advance(60_000);
  const again = responded(await gate.check(request('/', session)));
  assert.equal(again.status, 302, 'auth_time + 24 h has passed: log in again');
  assert.match(String(again.headers?.['location']), /^https:\/\/idp\.example\//);
  assert.ok('allow' in (await gate.check(request('/', fresh))), 'a fresh login has 23 h left');
  assert.equal(store.size, 1);
  access.close();
});

test('re-checking an open connection of a user an admin revoked says access_revoked, also once the session is gone', async () => {
  const { gate, access, store, clock } = await setUp();
  const notBefore = new Map<string, number>();
  Object.assign(store, {
    userNotBefore: (u: { idp: string; subject: string }) =>
      Promise.resolve(notBefore.get(`${u.idp}/${u.subject}`)),
  });
  const { session } = await logIn(gate, '/', 'alice');
  assert.equal(await recheck(gate, request('/live', session)), undefined);
  clock.advance(1000);
  notBefore.set('corp/alice', clock.now());
  assert.equal(await recheck(gate, request('/live', session)), 'access_revoked');
  // The check deleted the session (as the revocation itself does): still access_revoked.
  assert.equal(await recheck(gate, request('/live', session)), 'access_revoked');
  notBefore.clear();
  const { session: again } = await logIn(gate, '/', 'alice');
  await logoutPost(gate, again);
  assert.equal(
    await recheck(gate, request('/live', again)),
    'session_ended',
    'a logout is no revocation',
  );
  access.close();
});
