import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IdentityProvider } from '../../config/index.js';
import { isPosternError } from '../../core/index.js';
import { parseAdminRoleMapping } from './admin-role-mapping.js';
import { ADMIN_AUDIENCE, ADMIN_SIGN_IN_PATHS, AdminSignIn } from './admin-sign-in.js';
import type { AuthResponse } from './auth-html.js';
import { AUTH_PATHS, type AuthRequest } from './auth-pages.js';
import { BrowserAccess } from './browser-access.js';
import type { AuthorizationChecks, OidcClient } from './oidc-client.js';
import { CLI_AUDIENCE, UserTokenAuthority } from './user-token.js';

const USERS = {
  alice: { subject: 'alice', email: 'alice@example.com', groups: ['postern-admins'], idp: 'corp' },
  vera: { subject: 'vera', email: 'vera@example.com', groups: ['staff'], idp: 'corp' },
  mallory: { subject: 'mallory', email: 'mallory@example.com', groups: ['sales'], idp: 'corp' },
} as const;

/** Stands in for the provider: the code names the user. */
const fakeProvider = {
  authorizationUrl: (checks: AuthorizationChecks) => {
    const url = new URL('https://idp.example/authorize');
    url.searchParams.set('state', checks.state);
    url.searchParams.set('redirect_uri', checks.redirectUri);
    return Promise.resolve(url);
  },
  redeem: (query: URLSearchParams) => {
    const user = USERS[query.get('code') as keyof typeof USERS];
    return user ? Promise.resolve(user) : Promise.reject(new Error('bad code'));
  },
} as unknown as OidcClient;

async function setUp() {
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'postern-edge',
  });
  const access = new BrowserAccess({ authority, discover: () => Promise.resolve(fakeProvider) });
  access.configure({ identity_providers: [{ name: 'corp' } as IdentityProvider] } as never);
  const signIn = new AdminSignIn({
    pages: access.pages,
    authority,
    identityProvider: 'corp',
    roles: parseAdminRoleMapping('admin=postern-admins,viewer=staff'),
  });
  access.close();
  return { authority, access, signIn };
}

const req = (target: string, cookie?: string): AuthRequest => ({
  method: 'GET',
  target,
  host: '127.0.0.1:9090',
  headers: cookie === undefined ? {} : { cookie },
  secure: false,
});

async function answer(signIn: AdminSignIn, r: AuthRequest): Promise<AuthResponse> {
  const a = await signIn.respond(r);
  assert.ok(a, `no answer for ${r.target}`);
  return a;
}

/** Starts a sign-in; returns the state and the login cookie (name=value). */
async function start(signIn: AdminSignIn) {
  const started = await answer(signIn, req(ADMIN_SIGN_IN_PATHS.login));
  const location = new URL(String(started.headers['location']));
  const setCookie = String(started.headers['set-cookie']);
  return { started, location, setCookie, state: location.searchParams.get('state') ?? '' };
}

test('an admin-group user gets a one-hour postern:admin token with the mapped role', async () => {
  const { signIn, authority } = await setUp();
  const { location, setCookie, state } = await start(signIn);
  assert.equal(
    location.searchParams.get('redirect_uri'),
    'http://127.0.0.1:9090/.postern/admin/callback',
  );
  // Plain http admin listener: a cookie of its own, not Secure, only for the sign-in pages.
  assert.match(setCookie, /^postern-admin-login=[^;]+; Path=\/\.postern\/admin\/; HttpOnly/);
  assert.doesNotMatch(setCookie, /Secure/);

  const cookie = setCookie.split(';')[0];
  const back = await answer(
    signIn,
    req(`${ADMIN_SIGN_IN_PATHS.callback}?code=alice&state=${state}`, cookie),
  );
  assert.equal(back.status, 302);
  const target = new URL(String(back.headers['location']), 'http://127.0.0.1:9090');
  assert.equal(target.pathname, '/console/');
  const fragment = new URLSearchParams(target.hash.slice(1));
  assert.equal(fragment.get('user'), 'alice@example.com');
  assert.equal(fragment.get('role'), 'admin');
  const token = fragment.get('admin_token') ?? '';
  const verified = await authority.verify(token, { audience: ADMIN_AUDIENCE });
  assert.equal(verified.claims['role'], 'admin');
  assert.equal(verified.expiresAt - verified.issuedAt, 3600_000);
  const user = await signIn.verify(token);
  assert.deepEqual(
    { actor: user.actor, role: user.role, user: user.user },
    { actor: 'user:alice@example.com', role: 'admin', user: 'alice@example.com' },
  );
  // The login cookie is cleared, and the state cannot be used twice.
  assert.match([back.headers['set-cookie']].flat().join('\n'), /postern-admin-login=; .*Max-Age=0/);
  const again = await answer(
    signIn,
    req(`${ADMIN_SIGN_IN_PATHS.callback}?code=alice&state=${state}`, cookie),
  );
  assert.equal(again.status, 400);
});

test('a user whose groups map to no role gets a 403 page saying why, and no token', async () => {
  const { signIn } = await setUp();
  const { setCookie, state } = await start(signIn);
  const back = await answer(
    signIn,
    req(`${ADMIN_SIGN_IN_PATHS.callback}?code=mallory&state=${state}`, setCookie.split(';')[0]),
  );
  assert.equal(back.status, 403);
  assert.match(back.body, /POSTERN_ERR_ADMIN_SIGN_IN_REFUSED/);
  assert.match(back.body, /mallory@example\.com \(groups: sales\)/);
  assert.equal(back.headers['location'], undefined);
  assert.doesNotMatch(back.body, /admin_token/);
});

test('a callback without the login cookie of this browser, or at the wrong page, is refused', async () => {
  const { signIn, access } = await setUp();
  const first = await start(signIn);
  const noCookie = await answer(
    signIn,
    req(`${ADMIN_SIGN_IN_PATHS.callback}?code=alice&state=${first.state}`),
  );
  assert.equal(noCookie.status, 400);
  assert.match(noCookie.body, /did not start this login/);

  // An admin login brought to the browser-access callback does not become a session there.
  const second = await start(signIn);
  const elsewhere = await access.pages.respond(
    req(`${AUTH_PATHS.callback}?code=alice&state=${second.state}`, second.setCookie.split(';')[0]),
  );
  assert.equal(elsewhere?.status, 400);
  assert.match(elsewhere?.body ?? '', /Wrong callback/);
});

test('tokens for another audience or without a valid role are refused with 401 codes', async () => {
  const { signIn, authority } = await setUp();
  const unauthorized = (err: unknown) =>
    isPosternError(err) && err.code === 'POSTERN_ERR_UNAUTHORIZED';
  const cli = await authority.issue(USERS.alice, {
    audience: CLI_AUDIENCE,
    ttlMs: 60_000,
    claims: { role: 'admin' },
  });
  await assert.rejects(signIn.verify(cli.token), unauthorized);
  const noRole = await authority.issue(USERS.alice, {
    audience: ADMIN_AUDIENCE,
    ttlMs: 60_000,
    claims: { role: 'owner' },
  });
  await assert.rejects(
    signIn.verify(noRole.token),
    (err: unknown) => unauthorized(err) && /names no admin role/.test((err as Error).message),
  );
});
