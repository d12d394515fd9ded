import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Configuration, IdentityProvider, VirtualServer } from '../../config/index.js';
import { FakeClock } from '../../core/index.js';
import { openMemoryStore } from '../../store/index.js';
import type { AuthResponse } from './auth-html.js';
import type { AuthRequest, DeviceStores } from './auth-pages.js';
import { BrowserAccess } from './browser-access.js';
import { s256 } from './cli-login-codes.js';
import type { OidcClient } from './oidc-client.js';
import { MemorySessionStore, type SessionStore } from './session-store.js';
import { CLI_AUDIENCE, UserTokenAuthority } from './user-token.js';

const ALICE = { subject: 'alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' };
const CALLBACK = 'http://127.0.0.1:5000/callback';
const STATE = 's'.repeat(20);
const HOST = 'edge.example:8444';

/**
 * Stands in for provider `name` (at https://NAME.example): it sends every browser straight back
 * (an open provider session).
 */
function fakeProvider(name: string): OidcClient {
  return {
    authorizationUrl: (checks: { state: string }) => {
      const url = new URL(`https://${name}.example/authorize`);
      url.searchParams.set('state', checks.state);
      return Promise.resolve(url);
    },
    redeem: () => Promise.resolve({ ...ALICE, idp: name }),
  } as unknown as OidcClient;
}

/** What one edge of the tests is made of; edges given the same `store` and `pem` form an HA set. */
interface EdgeSetUp {
  /** Identity providers configured; default `corp` alone. */
  readonly providers?: readonly string[];
  readonly cliIdentityProvider?: string;
  readonly store?: SessionStore;
  readonly pem?: string;
  readonly devices?: DeviceStores;
}

async function setUp(edge: EdgeSetUp = {}) {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const authority = await UserTokenAuthority.fromPem(edge.pem ?? UserTokenAuthority.generatePem(), {
    issuer: 'postern-edge',
    clock,
  });
  const access = new BrowserAccess({
    authority,
    clock,
    store: edge.store ?? new MemorySessionStore(),
    discover: (idp) => Promise.resolve(fakeProvider(idp.name)),
    cliTokenTtlMs: 2 * 3600_000,
    cliIdentityProvider: edge.cliIdentityProvider,
    devices: edge.devices,
  });
  const config = {
    identity_providers: (edge.providers ?? ['corp']).map((name) => ({ name }) as IdentityProvider),
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
async function toConfirmation(
  send: Awaited<ReturnType<typeof setUp>>['send'],
  challenge: string,
  /** Cookies the browser holds already (name=value), sent with the provider's redirect back. */
  jar: readonly string[] = [],
) {
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
    headers: { cookie: [...jar, cookiesOf(start)[0] ?? ''].join('; ') },
  });
  const confirm = /name="confirm" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const cookie =
    cookiesOf(page).find((c) => c.startsWith('__Host-postern-cli-confirm-') && !c.endsWith('=')) ??
    '';
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
  assert.match(cookie, /^__Host-postern-cli-confirm-[A-Za-z0-9_-]{22}=[A-Za-z0-9_-]{43}$/);
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

/** The CLI's exchange of `code` and `verifier` at the edge `send` belongs to. */
async function exchange(
  send: Awaited<ReturnType<typeof setUp>>['send'],
  code: string,
  verifier: string,
) {
  const answer = await send({
    method: 'POST',
    target: '/.postern/cli/login',
    headers: FORM,
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
    }).toString(),
  });
  return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
}

/** The code Allow sends to the callback. */
function codeOf(allowed: AuthResponse): string {
  assert.equal(allowed.status, 302, allowed.body);
  return new URL(String(allowed.headers['location'])).searchParams.get('code') ?? '';
}

test('two logins confirmed in one browser at once each keep their own cookie, and each Allow sends its own code', async () => {
  const { send } = await setUp();
  const [one, two] = [pkce(), pkce()];
  const first = await toConfirmation(send, one.challenge);
  const second = await toConfirmation(send, two.challenge);
  assert.notEqual(first.cookie.split('=')[0], second.cookie.split('=')[0], 'one cookie each');
  // The browser sends every cookie it holds with each form.
  const jar = `${first.cookie}; ${second.cookie}`;
  const codeOne = codeOf(await decide(send, { ...first, cookie: jar, decision: 'allow' }));
  const codeTwo = codeOf(await decide(send, { ...second, cookie: jar, decision: 'allow' }));
  assert.equal((await exchange(send, codeOne, one.verifier)).status, 200);
  assert.equal((await exchange(send, codeTwo, two.verifier)).status, 200);
});

test('a browser keeps at most 5 confirmation cookies: a sixth postern login drops the oldest', async () => {
  const { send } = await setUp();
  // The browser's confirmation cookies, oldest first, as it sends them.
  let jar: string[] = [];
  const forms: Awaited<ReturnType<typeof toConfirmation>>[] = [];
  const dropped: string[][] = [];
  for (let i = 0; i < 6; i++) {
    const form = await toConfirmation(send, pkce().challenge, jar);
    const drops = [form.page.headers['set-cookie'] ?? []]
      .flat()
      .filter((c) => c.startsWith('__Host-postern-cli-confirm-') && /=;/.test(c));
    for (const drop of drops) {
      assert.match(drop, /; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=0$/);
      jar = jar.filter((c) => c.split('=')[0] !== drop.split('=')[0]);
    }
    dropped.push(drops.map((c) => c.split('=')[0] ?? ''));
    jar.push(form.cookie);
    forms.push(form);
  }
  assert.deepEqual(dropped.slice(0, 5), [[], [], [], [], []], 'five fit');
  assert.deepEqual(dropped[5], [forms[0]!.cookie.split('=')[0]], 'the sixth drops the oldest');
  assert.equal(jar.length, 5);
  // The dropped login can no longer be allowed from this browser; the others still can.
  const stale = await decide(send, { ...forms[0]!, cookie: jar.join('; '), decision: 'allow' });
  assert.equal(stale.status, 403);
  codeOf(await decide(send, { ...forms[1]!, cookie: jar.join('; '), decision: 'allow' }));
  codeOf(await decide(send, { ...forms[5]!, cookie: jar.join('; '), decision: 'allow' }));
});

test('Allow clears only its own login cookie', async () => {
  const { send } = await setUp();
  const form = await toConfirmation(send, pkce().challenge);
  const allowed = await decide(send, { ...form, decision: 'allow' });
  const name = form.cookie.split('=')[0] ?? '';
  assert.deepEqual(cookiesOf(allowed), [`${name}=`]);
});

test('a code redeemed on one edge is refused on another edge sharing the store', async () => {
  const store = new MemorySessionStore();
  const pem = UserTokenAuthority.generatePem();
  const edgeA = await setUp({ store, pem });
  const edgeB = await setUp({ store, pem });
  const { verifier, challenge } = pkce();
  const form = await toConfirmation(edgeA.send, challenge);
  const code = codeOf(await decide(edgeA.send, { ...form, decision: 'allow' }));
  assert.equal((await exchange(edgeB.send, code, verifier)).status, 200);
  const again = await exchange(edgeA.send, code, verifier);
  assert.equal(again.status, 400);
  assert.equal(again.body['error'], 'invalid_grant');
  assert.match(String(again.body['error_description']), /already used/);
});

test('a confirmation decided on one edge cannot be decided again on another sharing the store', async () => {
  const store = new MemorySessionStore();
  const pem = UserTokenAuthority.generatePem();
  const edgeA = await setUp({ store, pem });
  const edgeB = await setUp({ store, pem });
  const form = await toConfirmation(edgeA.send, pkce().challenge);
  assert.equal((await decide(edgeB.send, { ...form, decision: 'allow' })).status, 302);
  assert.equal((await decide(edgeA.send, { ...form, decision: 'allow' })).status, 409);
});

/** The start URL of a CLI login, as `postern login` builds it. */
function startTarget(challenge: string, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams({
    callback: CALLBACK,
    state: STATE,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  return `/.postern/cli/login?${query.toString()}`;
}

/** The links of a provider choice page, by provider name. */
function choiceLinks(page: AuthResponse): Map<string, string> {
  const links = new Map<string, string>();
  for (const m of page.body.matchAll(/<a href="([^"]+)" id="idp-[^"]+" data-idp="([^"]+)">/g)) {
    links.set(m[2] ?? '', (m[1] ?? '').replaceAll('&#38;', '&'));
  }
  return links;
}

test('with two providers and none chosen, the CLI login starts on a page linking to each', async () => {
  const { send } = await setUp({ providers: ['corp', 'partner'] });
  const challenge = pkce().challenge;
  const page = await send({ target: startTarget(challenge) });
  assert.equal(page.status, 200);
  assert.match(page.body, /Choose how to sign in/);
  const links = choiceLinks(page);
  assert.deepEqual([...links.keys()], ['corp', 'partner']);
  const picked = new URL(links.get('partner') ?? '', 'https://edge.example');
  assert.equal(picked.pathname, '/.postern/cli/login');
  assert.equal(picked.searchParams.get('code_challenge'), challenge);
  assert.equal(picked.searchParams.get('callback'), CALLBACK);
  const start = await send({ target: `${picked.pathname}${picked.search}` });
  assert.equal(start.status, 302);
  assert.equal(new URL(String(start.headers['location'])).host, 'partner.example');
});

test('with two providers a chosen provider must be one of them; --cli-identity-provider skips the choice', async () => {
  const { send } = await setUp({ providers: ['corp', 'partner'] });
  const unknown = await send({ target: startTarget(pkce().challenge, { idp: 'evil' }) });
  assert.equal(unknown.status, 200, 'an unknown provider shows the choice again');
  assert.match(unknown.body, /Choose how to sign in/);
  const pinned = await setUp({ providers: ['corp', 'partner'], cliIdentityProvider: 'partner' });
  const start = await pinned.send({ target: startTarget(pkce().challenge, { idp: 'corp' }) });
  assert.equal(start.status, 302);
  assert.equal(new URL(String(start.headers['location'])).host, 'partner.example');
});

test('a CLI login with two providers finishes with the identity of the one picked', async () => {
  const { send, authority } = await setUp({ providers: ['corp', 'partner'] });
  const { verifier, challenge } = pkce();
  const start = await send({ target: startTarget(challenge, { idp: 'partner' }) });
  const state = new URL(String(start.headers['location'])).searchParams.get('state') ?? '';
  const page = await send({
    target: `/.postern/auth/callback?code=x&state=${encodeURIComponent(state)}`,
    headers: { cookie: cookiesOf(start)[0] ?? '' },
  });
  const confirm = /name="confirm" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const cookie = cookiesOf(page).find((c) => c.startsWith('__Host-postern-cli-confirm-')) ?? '';
  const code = codeOf(await decide(send, { confirm, cookie, decision: 'allow' }));
  const answer = await exchange(send, code, verifier);
  assert.equal(answer.status, 200);
  const verified = await authority.verify(String(answer.body['token']), { audience: CLI_AUDIENCE });
  assert.equal(verified.identity.idp, 'partner');
});

test("the CLI's check answers 204 with two providers and no choice made", async () => {
  const { send } = await setUp({ providers: ['corp', 'partner'] });
  const check = await send({ target: startTarget(pkce().challenge, { check: '1' }) });
  assert.equal(check.status, 204);
  const none = await setUp({ providers: [] });
  const refused = await none.send({ target: startTarget(pkce().challenge, { check: '1' }) });
  assert.equal(refused.status, 503);
  assert.match(refused.body, /no identity provider/);
});

test("with two providers the device page's login starts on a choice page that links back to it", async () => {
  const devices = await openMemoryStore();
  try {
    const { send } = await setUp({ providers: ['corp', 'partner'], devices });
    const page = await send({ target: '/.postern/cli/device?user_code=BCDF-GHJK' });
    assert.equal(page.status, 200);
    const links = choiceLinks(page);
    assert.deepEqual([...links.keys()], ['corp', 'partner']);
    const picked = new URL(links.get('corp') ?? '', 'https://edge.example');
    assert.equal(picked.pathname, '/.postern/cli/device');
    assert.equal(picked.searchParams.get('user_code'), 'BCDF-GHJK');
    const start = await send({ target: `${picked.pathname}${picked.search}` });
    assert.equal(start.status, 302);
    assert.equal(new URL(String(start.headers['location'])).host, 'corp.example');
  } finally {
    await devices.close();
  }
});

test('without device login, the CLI endpoints answer a JSON 404 and the verification page an HTML one', async () => {
  const { send } = await setUp();
  for (const target of ['/.postern/cli/device', '/.postern/cli/device/token']) {
    const api = await send({ method: 'POST', target, headers: { authorization: 'Device x' } });
    assert.equal(api.status, 404, target);
    assert.match(String(api.headers['content-type']), /^application\/json/, target);
    assert.deepEqual(JSON.parse(api.body), {
      error: 'device_login_off',
      error_description: 'This edge does not offer device logins.',
    });
  }
  const page = await send({ target: '/.postern/cli/device?user_code=BCDF-GHJK' });
  assert.equal(page.status, 404);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.match(page.body, /does not offer device logins/);
});
