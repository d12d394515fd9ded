import test from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { Configuration, IdentityProvider, VirtualServer } from '../../config/index.js';
import { FakeClock } from '../../core/index.js';
import type { AccessGate, AccessGateRequest, AccessGateResult } from '../../traffic/index.js';
import type { AccessDecisionEntry } from './access-gate.js';
import { BrowserAccess } from './browser-access.js';
import { MemorySessionStore } from './session-store.js';
import type { AuthorizationChecks, OidcClient } from './oidc-client.js';
import { UserTokenAuthority } from './user-token.js';

const USERS = {
  alice: { subject: 'alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' },
  bob: { subject: 'bob', email: 'bob@example.com', groups: ['sales'], idp: 'corp' },
} as const;

/** Stands in for the provider: the code names the user; it records the checks it was given. */
function fakeProvider(redeemed: AuthorizationChecks[]): OidcClient {
  const client = {
    authorizationUrl: (checks: AuthorizationChecks) => {
      const url = new URL('https://idp.example/authorize');
      url.searchParams.set('state', checks.state);
      url.searchParams.set('redirect_uri', checks.redirectUri);
      return Promise.resolve(url);
    },
    redeem: (query: URLSearchParams, checks: AuthorizationChecks) => {
      redeemed.push(checks);
      const user = USERS[query.get('code') as keyof typeof USERS];
      return user ? Promise.resolve(user) : Promise.reject(new Error('bad code'));
    },
  };
  return client as unknown as OidcClient;
}

const vs = {
  name: 'wiki',
  protocol: 'https',
  access: {
    login: 'required',
    identity_provider: 'corp',
    idle_timeout_ms: 1_800_000,
    reauthentication_timeout_ms: 86_400_000,
    identity_headers: true,
    assertion: true,
  },
} as unknown as VirtualServer;

const config = {
  identity_providers: [{ name: 'corp' } as IdentityProvider],
  access_policies: [
    { name: 'eng', action: 'allow', conditions: { groups: ['eng'] } },
    { name: 'nobody-else', action: 'deny', conditions: { virtual_servers: ['wiki'] } },
  ],
} as unknown as Configuration;

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
  const session = setCookies(back).find((c) => c.startsWith('__Host-postern-session='));
  return { start, back, state, loginCookie, session: session?.split(';')[0] ?? '' };
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
  assert.match(session, /^__Host-postern-session=[A-Za-z0-9_-]{43}$/);
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

test('logout ends the session on the edge, so the old cookie leads to a new login', async () => {
  const { gate } = await setUp();
  const { session } = await logIn(gate, '/', 'alice');
  const out = responded(await gate.check(request('/.postern/auth/logout', session)));
  assert.equal(out.status, 200);
  const replay = responded(await gate.check(request('/', session)));
  assert.equal(replay.status, 302);
  assert.match(String(replay.headers?.['location']), /^https:\/\/idp\.example\//);
});

test('a callback is refused when its state is unknown, reused or from another browser', async () => {
  const { gate } = await setUp();
  const start = await gate.check(request('/'));
  const state = new URL(String(responded(start).headers?.['location'])).searchParams.get('state');
  const cb = `/.postern/auth/callback?code=alice&state=${state}`;
  const otherBrowser = responded(await gate.check(request(cb, '__Host-postern-login=other')));
  assert.equal(otherBrowser.status, 400);
  // The state was consumed by that attempt: it cannot be replayed either.
  const replay = responded(await gate.check(request(cb, `__Host-postern-login=${state}`)));
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

test('the CLI login accepts only loopback callbacks and returns a CLI token there', async () => {
  const { access, authority } = await setUp();
  const pages = access.pages;
  const base = { method: 'GET', host: 'edge.example:8444', headers: {}, secure: true };
  const evil = await pages.respond({
    ...base,
    target: `/.postern/cli/login?callback=${encodeURIComponent('https://evil.example/')}&state=${'s'.repeat(20)}`,
  });
  assert.equal(evil?.status, 400);
  const start = await pages.respond({
    ...base,
    target: `/.postern/cli/login?callback=${encodeURIComponent('http://127.0.0.1:5000/callback')}&state=${'s'.repeat(20)}`,
  });
  assert.equal(start?.status, 302);
  const state = new URL(String(start?.headers['location'])).searchParams.get('state');
  const back = await pages.respond({
    ...base,
    target: `/.postern/auth/callback?code=alice&state=${state}`,
    headers: { cookie: `__Host-postern-login=${state}` },
  });
  const to = new URL(String(back?.headers['location']));
  assert.equal(to.origin, 'http://127.0.0.1:5000');
  assert.equal(to.searchParams.get('state'), 's'.repeat(20));
  const verified = await authority.verify(to.searchParams.get('token') ?? '', {
    audience: 'postern:cli',
  });
  assert.equal(verified.identity.subject, 'alice');
  assert.equal(verified.expiresAt - verified.issuedAt, 8 * 3600_000);
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
