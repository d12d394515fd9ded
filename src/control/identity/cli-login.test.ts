import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Configuration, IdentityProvider, VirtualServer } from '../../config/index.js';
import { FakeClock } from '../../core/index.js';
import type { AuthResponse } from './auth-html.js';
import type { AuthRequest } from './auth-pages.js';
import { BrowserAccess } from './browser-access.js';
import { s256 } from './cli-login-codes.js';
import type { OidcClient } from './oidc-client.js';
import { MemorySessionStore } from './session-store.js';
import { CLI_AUDIENCE, UserTokenAuthority } from './user-token.js';

const ALICE = { subject: 'alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' };
const CALLBACK = 'http://127.0.0.1:5000/callback';
const STATE = 's'.repeat(20);
const HOST = 'edge.example:8444';

/** Stands in for the provider: it sends every browser straight back (an open provider session). */
const provider = {
  authorizationUrl: (checks: { state: string }) => {
    const url = new URL('https://idp.example/authorize');
    url.searchParams.set('state', checks.state);
    return Promise.resolve(url);
  },
  redeem: () => Promise.resolve(ALICE),
} as unknown as OidcClient;

async function setUp() {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'postern-edge',
    clock,
  });
  const access = new BrowserAccess({
    authority,
    clock,
    store: new MemorySessionStore(),
    discover: () => Promise.resolve(provider),
    cliTokenTtlMs: 2 * 3600_000,
  });
  const config = {
    identity_providers: [{ name: 'corp' } as IdentityProvider],
    access_policies: [],
  };
  access.gateFor(
    { name: 'wiki', protocol: 'https' } as unknown as VirtualServer,
    config as unknown as Configuration,
  );
  const send = async (req: Partial<AuthRequest> & { target: string; body?: string }) => {
    const { body, ...rest } = req;
    const answer = await access.pages.respond({
      method: 'GET',
      host: HOST,
      headers: {},
      secure: true,
      ...(body === undefined ? {} : { readBody: () => Promise.resolve(Buffer.from(body)) }),
      ...rest,
    });
    assert.ok(answer, `no answer to ${req.target}`);
    return answer;
  };
  return { clock, authority, access, send };
}

function cookiesOf(answer: AuthResponse): string[] {
  const value = answer.headers['set-cookie'];
  return (value === undefined ? [] : typeof value === 'string' ? [value] : [...value]).map(
    (c) => c.split(';')[0] ?? '',
  );
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Starts a CLI login and comes back from the provider: the confirmation page and its cookie. */
async function toConfirmation(send: Awaited<ReturnType<typeof setUp>>['send'], challenge: string) {
  const query = new URLSearchParams({
    callback: CALLBACK,
    state: STATE,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const start = await send({ target: `/.postern/cli/login?${query.toString()}` });
  assert.equal(start.status, 302);
  const state = new URL(String(start.headers['location'])).searchParams.get('state') ?? '';
  const page = await send({
    target: `/.postern/auth/callback?code=x&state=${encodeURIComponent(state)}`,
    headers: { cookie: cookiesOf(start)[0] ?? '' },
  });
  const confirm = /name="confirm" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const cookie = cookiesOf(page).find((c) => c.startsWith('__Host-postern-cli-confirm=')) ?? '';
  return { page, confirm, cookie };
}

/** Posts the confirmation form's decision. */
function decide(
  send: Awaited<ReturnType<typeof setUp>>['send'],
  form: { confirm: string; cookie: string; decision: string },
  headers: Record<string, string> = {},
) {
  return send({
    method: 'POST',
    target: '/.postern/cli/login',
    headers: { ...FORM, cookie: form.cookie, ...headers },
    body: new URLSearchParams({ confirm: form.confirm, decision: form.decision }).toString(),
  });
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: s256(verifier) };
}

test('a CLI login without a PKCE challenge is refused before the provider', async () => {
  const { send } = await setUp();
  const answer = await send({
    target: `/.postern/cli/login?callback=${encodeURIComponent(CALLBACK)}&state=${STATE}`,
  });
  assert.equal(answer.status, 400);
  assert.match(answer.body, /code_challenge/);
});

test('with a provider session the browser lands on an Allow/Deny page, never on the callback', async () => {
  const { send } = await setUp();
  const { page, confirm, cookie } = await toConfirmation(send, pkce().challenge);
  assert.equal(page.status, 200);
  assert.equal(page.headers['location'], undefined);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  assert.match(page.body, /alice@example\.com/);
  assert.match(page.body, /127\.0\.0\.1:5000/);
  assert.match(page.body, /valid for 2 hours/);
  assert.match(page.body, /id="allow"/);
  assert.match(page.body, /id="deny"/);
  assert.ok(confirm, 'the form carries a confirmation');
  assert.match(cookie, /^__Host-postern-cli-confirm=[A-Za-z0-9_-]{43}$/);
});

test('Allow sends a one-time code (no token) to the callback; the CLI exchanges it with its verifier', async () => {
  const { send, authority } = await setUp();
  const { verifier, challenge } = pkce();
  const form = await toConfirmation(send, challenge);
  const allowed = await decide(send, { ...form, decision: 'allow' });
  assert.equal(allowed.status, 302);
  const back = new URL(String(allowed.headers['location']));
  assert.equal(`${back.origin}${back.pathname}`, CALLBACK);
  assert.equal(back.searchParams.get('state'), STATE);
  assert.equal(back.searchParams.get('token'), null);
  const code = back.searchParams.get('code') ?? '';
  await assert.rejects(authority.verify(code, { audience: CLI_AUDIENCE }), 'a code is no token');
  const exchange = (v: string) =>
    send({
      method: 'POST',
      target: '/.postern/cli/login',
      headers: FORM,
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        code_verifier: v,
      }).toString(),
    });
  const answer = await exchange(verifier);
  assert.equal(answer.status, 200, answer.body);
  assert.equal(answer.headers['cache-control'], 'no-store');
  const body = JSON.parse(answer.body) as { token: string; expires_at: number; user: string };
  assert.equal(body.user, 'alice@example.com');
  const verified = await authority.verify(body.token, { audience: CLI_AUDIENCE });
  assert.equal(verified.identity.subject, 'alice');
  assert.equal(verified.expiresAt - verified.issuedAt, 2 * 3600_000, '--cli-token-ttl applies');
  const replay = await exchange(verifier);
  assert.equal(replay.status, 400);
  assert.equal((JSON.parse(replay.body) as { error: string }).error, 'invalid_grant');
});

test('Deny sends access_denied and no code to the callback', async () => {
  const { send } = await setUp();
  const form = await toConfirmation(send, pkce().challenge);
  const denied = await decide(send, { ...form, decision: 'deny' });
  assert.equal(denied.status, 302);
  const back = new URL(String(denied.headers['location']));
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(back.searchParams.get('state'), STATE);
  assert.equal(back.searchParams.get('code'), null);
});

test('the decision needs the browser that saw the page, the same site, and counts once', async () => {
  const { send } = await setUp();
  const form = await toConfirmation(send, pkce().challenge);
  const other = await toConfirmation(send, pkce().challenge);
  assert.equal((await decide(send, { ...form, cookie: '', decision: 'allow' })).status, 403);
  assert.equal(
    (await decide(send, { ...form, cookie: other.cookie, decision: 'allow' })).status,
    403,
  );
  const crossSite = await decide(
    send,
    { ...form, decision: 'allow' },
    { 'sec-fetch-site': 'cross-site' },
  );
  assert.equal(crossSite.status, 403);
  assert.equal((await decide(send, { ...form, confirm: 'forged', decision: 'allow' })).status, 400);
  assert.equal((await decide(send, { ...form, decision: 'allow' })).status, 302);
  assert.equal((await decide(send, { ...form, decision: 'allow' })).status, 409);
});

test('the confirmation expires', async () => {
  const { send, clock } = await setUp();
  const form = await toConfirmation(send, pkce().challenge);
  clock.advance(11 * 60_000);
  const late = await decide(send, { ...form, decision: 'allow' });
  assert.equal(late.status, 400);
  assert.match(late.body, /expired/);
});

test('codes and verifiers are refused in the URL of a POST', async () => {
  const { send } = await setUp();
  const answer = await send({
    method: 'POST',
    target: '/.postern/cli/login?code=x&code_verifier=y',
    headers: FORM,
    body: 'grant_type=authorization_code',
  });
  assert.equal(answer.status, 400);
});
