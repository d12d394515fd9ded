import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { Configuration, IdentityProvider } from '../../config/index.js';
import { FakeClock } from '../../core/index.js';
import { openMemoryStore, type Store } from '../../store/index.js';
import type { AuthResponse } from './auth-html.js';
import type { AuthRequest } from './auth-pages.js';
import { BrowserAccess } from './browser-access.js';
import type { AuthorizationChecks, OidcClient } from './oidc-client.js';
import { CLI_AUDIENCE, UserTokenAuthority } from './user-token.js';

const ALICE = { subject: 'alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' };
const CLI_IP = '203.0.113.9';
const BROWSER_IP = '192.0.2.7';

/** Stands in for the provider: the authorization code is the user's name. */
function fakeProvider(): OidcClient {
  return {
    authorizationUrl: (checks: AuthorizationChecks) => {
      const url = new URL('https://idp.example/authorize');
      url.searchParams.set('state', checks.state);
      return Promise.resolve(url);
    },
    redeem: (query: URLSearchParams) =>
      query.get('code') === 'alice'
        ? Promise.resolve(ALICE)
        : Promise.reject(new Error('bad code')),
  } as unknown as OidcClient;
}

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function setUp(deviceLoginTtlMs?: number) {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'postern-edge',
    clock,
  });
  const store = await openMemoryStore({ clock });
  stores.push(store);
  const access = new BrowserAccess({
    authority,
    clock,
    devices: store.deviceAuthorizations,
    deviceLoginTtlMs,
    discover: () => Promise.resolve(fakeProvider()),
  });
  access.configure({
    identity_providers: [{ name: 'corp' } as IdentityProvider],
  } as unknown as Configuration);
  const send = async (
    method: string,
    target: string,
    options: { cookie?: string; ip?: string; headers?: Record<string, string> } = {},
  ): Promise<AuthResponse> => {
    const req: AuthRequest = {
      method,
      target,
      host: 'edge.example:8444',
      headers: { ...(options.cookie ? { cookie: options.cookie } : {}), ...options.headers },
      secure: true,
      clientIp: options.ip ?? BROWSER_IP,
    };
    const answer = await access.pages.respond(req);
    assert.ok(answer, `${target} is answered`);
    return answer;
  };
  const start = async () => {
    const answer = await send('POST', '/.postern/cli/device', { ip: CLI_IP });
    assert.equal(answer.status, 200, answer.body);
    return JSON.parse(answer.body) as Record<string, string | number>;
  };
  const poll = async (deviceCode: string) => {
    const answer = await send('POST', '/.postern/cli/device/token', {
      headers: { authorization: `Device ${deviceCode}` },
      ip: CLI_IP,
    });
    return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
  };
  /** Logs a browser in through the device page; returns its device session cookie. */
  const logIn = async (userCode: string) => {
    const first = await send('GET', `/.postern/cli/device?user_code=${userCode}`);
    assert.equal(first.status, 302);
    const state = new URL(String(first.headers.location)).searchParams.get('state') ?? '';
    const loginCookie = cookiesOf(first)[0]?.split(';')[0] ?? '';
    const back = await send('GET', `/.postern/auth/callback?code=alice&state=${state}`, {
      cookie: loginCookie,
    });
    assert.equal(back.status, 302);
    assert.equal(
      back.headers.location,
      `/.postern/cli/device?user_code=${userCode.replace('-', '')}`,
    );
    const device = cookiesOf(back).find((c) => c.startsWith('__Host-postern-device='));
    assert.ok(device, 'a device session cookie is set');
    assert.match(device, /; Secure; HttpOnly; SameSite=Lax/);
    return device.split(';')[0] ?? '';
  };
  /** The approve and deny form targets of the confirmation page. */
  const forms = async (userCode: string, cookie: string) => {
    const page = await send('GET', `/.postern/cli/device?user_code=${userCode}`, { cookie });
    assert.equal(page.status, 200, page.body);
    const actions = [...page.body.matchAll(/action="([^"]+)"/g)].map((m) =>
      (m[1] ?? '').replaceAll('&amp;', '&'),
    );
    const approve = actions.find((a) => a.startsWith('/.postern/cli/device/approve?'));
    const deny = actions.find((a) => a.startsWith('/.postern/cli/device/deny?'));
    assert.ok(approve && deny, page.body);
    return { page, approve, deny };
  };
  return { clock, authority, send, start, poll, logIn, forms };
}

function cookiesOf(answer: AuthResponse): string[] {
  const value = answer.headers['set-cookie'];
  return value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
}

test('the CLI starts a device login and gets the codes, the page, the expiry and the interval', async () => {
  const t = await setUp();
  const started = await t.start();
  assert.match(String(started.device_code), /^[A-Za-z0-9_-]{43}$/);
  assert.match(String(started.user_code), /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  assert.equal(started.verification_uri, 'https://edge.example:8444/.postern/cli/device');
  assert.equal(
    started.verification_uri_complete,
    `https://edge.example:8444/.postern/cli/device?user_code=${started.user_code}`,
  );
  assert.equal(started.expires_in, 600);
  assert.equal(started.interval, 5);
  assert.notEqual((await t.start()).user_code, started.user_code);
});

test('a logged-in browser approves; the next poll gets a token for that user, once', async () => {
  const t = await setUp();
  const started = await t.start();
  const deviceCode = String(started.device_code);
  assert.equal((await t.poll(deviceCode)).body.error, 'authorization_pending');
  const cookie = await t.logIn(String(started.user_code));
  const { page, approve } = await t.forms(String(started.user_code), cookie);
  assert.match(page.body, new RegExp(String(started.user_code)));
  assert.match(page.body, new RegExp(CLI_IP.replaceAll('.', '\\.')), 'the CLI address is shown');
  assert.match(page.body, /alice@example\.com/);
  const done = await t.send('POST', approve, {
    cookie,
    // What Chromium sends from a page with Referrer-Policy: no-referrer.
    headers: { origin: 'null', 'sec-fetch-site': 'same-origin' },
  });
  assert.equal(done.status, 200, done.body);
  assert.match(done.body, /Device approved/);
  assert.ok(
    cookiesOf(done).some((c) => c.startsWith('__Host-postern-device=;')),
    'cookie cleared',
  );
  t.clock.advance(5000);
  const got = await t.poll(deviceCode);
  assert.equal(got.status, 200, JSON.stringify(got.body));
  const verified = await t.authority.verify(String(got.body.access_token), {
    audience: CLI_AUDIENCE,
  });
  assert.equal(verified.identity.subject, 'alice');
  assert.deepEqual(verified.identity.groups, ['eng']);
  assert.equal(verified.expiresAt - t.clock.now(), 8 * 3600_000, 'the browser login lifetime');
  assert.equal(got.body.user, 'alice@example.com');
  t.clock.advance(5000);
  assert.equal(
    (await t.poll(deviceCode)).body.error,
    'invalid_grant',
    'the device code is used up',
  );
  const again = await t.send('POST', approve, { cookie });
  assert.equal(again.status, 401, 'the approval session ended with the decision');
});

test('a GET never decides, and a decision needs the form token and the same site', async () => {
  const t = await setUp();
  const started = await t.start();
  const code = String(started.user_code);
  const cookie = await t.logIn(code);
  const { approve } = await t.forms(code, cookie);
  assert.equal((await t.send('GET', approve, { cookie })).status, 405);
  const forged = approve.replace(/csrf=[^&]+/, 'csrf=AAAA');
  assert.equal((await t.send('POST', forged, { cookie })).status, 403);
  const noToken = approve.replace(/&csrf=[^&]+/, '');
  assert.equal((await t.send('POST', noToken, { cookie })).status, 403);
  const evil = { origin: 'https://evil.example' };
  assert.equal((await t.send('POST', approve, { cookie, headers: evil })).status, 403);
  const crossSite = { 'sec-fetch-site': 'cross-site' };
  assert.equal((await t.send('POST', approve, { cookie, headers: crossSite })).status, 403);
  const sameSiteEvil = { 'sec-fetch-site': 'same-site', origin: 'null' };
  assert.equal((await t.send('POST', approve, { cookie, headers: sameSiteEvil })).status, 403);
  const otherBrowser = await t.logIn(code);
  assert.equal(
    (await t.send('POST', approve, { cookie: otherBrowser })).status,
    403,
    'token of another session',
  );
  assert.equal((await t.poll(String(started.device_code))).body.error, 'authorization_pending');
});

test('deny makes the CLI hear access_denied', async () => {
  const t = await setUp();
  const started = await t.start();
  const cookie = await t.logIn(String(started.user_code));
  const { deny } = await t.forms(String(started.user_code), cookie);
  const done = await t.send('POST', deny, { cookie });
  assert.match(done.body, /Device denied/);
  const answer = await t.poll(String(started.device_code));
  assert.deepEqual([answer.status, answer.body.error], [400, 'access_denied']);
  t.clock.advance(5000);
  assert.equal((await t.poll(String(started.device_code))).body.error, 'invalid_grant');
});

test('polling sooner than the interval answers slow_down with an interval 5 s longer', async () => {
  const t = await setUp();
  const deviceCode = String((await t.start()).device_code);
  assert.equal((await t.poll(deviceCode)).body.error, 'authorization_pending');
  t.clock.advance(1000);
  assert.deepEqual((await t.poll(deviceCode)).body.error, 'slow_down');
  t.clock.advance(5000);
  const slow = await t.poll(deviceCode);
  assert.deepEqual([slow.body.error, slow.body.interval], ['slow_down', 15]);
  t.clock.advance(15_000);
  assert.equal((await t.poll(deviceCode)).body.error, 'authorization_pending');
  assert.equal((await t.poll('not-a-device-code')).body.error, 'invalid_grant');
  const missing = await t.send('POST', '/.postern/cli/device/token', { ip: CLI_IP });
  assert.equal(missing.status, 400);
});

test('an expired device login answers expired_token and can no longer be approved', async () => {
  const t = await setUp(60_000);
  const started = await t.start();
  assert.equal(started.expires_in, 60);
  const cookie = await t.logIn(String(started.user_code));
  const { approve } = await t.forms(String(started.user_code), cookie);
  t.clock.advance(59_999);
  assert.equal((await t.poll(String(started.device_code))).body.error, 'authorization_pending');
  t.clock.advance(1);
  assert.equal((await t.poll(String(started.device_code))).body.error, 'expired_token');
  const late = await t.send('POST', approve, { cookie });
  assert.equal(late.status, 400);
  assert.match(late.body, /unknown, expired or already used/);
});

test('five wrong codes lock the session and the address for 15 minutes', async () => {
  const t = await setUp();
  const started = await t.start();
  const code = String(started.user_code);
  const cookie = await t.logIn(code);
  const wrong = code === 'BBBB-BBBB' ? 'CCCC-CCCC' : 'BBBB-BBBB';
  for (let i = 0; i < 5; i++) {
    const page = await t.send('GET', `/.postern/cli/device?user_code=${wrong}`, { cookie });
    assert.equal(page.status, 400, `wrong try ${i + 1}`);
  }
  const locked = await t.send('GET', `/.postern/cli/device?user_code=${code}`, { cookie });
  assert.equal(locked.status, 429, 'even the right code is refused while locked');
  const { approve } = { approve: `/.postern/cli/device/approve?user_code=${code}&csrf=x` };
  assert.equal((await t.send('POST', approve, { cookie })).status, 429);
  const elsewhere = await t.send('GET', `/.postern/cli/device?user_code=${code}`, {
    cookie,
    ip: '198.51.100.1',
  });
  assert.equal(elsewhere.status, 429, 'the session is locked from another address too');
  t.clock.advance(900_000);
  const next = await t.start();
  const fresh = await t.logIn(String(next.user_code));
  const { page } = await t.forms(String(next.user_code), fresh);
  assert.equal(page.status, 200, 'the lock ends after 15 minutes');
});

test('the device page asks for the code when none is given, and a typed code may use any case', async () => {
  const t = await setUp();
  const started = await t.start();
  const code = String(started.user_code);
  const cookie = await t.logIn(code);
  const empty = await t.send('GET', '/.postern/cli/device', { cookie });
  assert.equal(empty.status, 200);
  assert.match(empty.body, /<input name="user_code"/);
  const typed = code.toLowerCase().replace('-', ' ');
  const page = await t.send('GET', `/.postern/cli/device?user_code=${encodeURIComponent(typed)}`, {
    cookie,
  });
  assert.equal(page.status, 200);
  assert.match(page.body, /id="approve"/);
});

test('the approval session lasts 10 minutes; then the page sends the browser to log in again', async () => {
  const t = await setUp(3600_000);
  const started = await t.start();
  const code = String(started.user_code);
  const cookie = await t.logIn(code);
  t.clock.advance(599_000);
  assert.equal(
    (await t.send('GET', `/.postern/cli/device?user_code=${code}`, { cookie })).status,
    200,
  );
  t.clock.advance(1000);
  const again = await t.send('GET', `/.postern/cli/device?user_code=${code}`, { cookie });
  assert.equal(again.status, 302);
  assert.ok(String(again.headers.location).startsWith('https://idp.example/'));
});

test('an address may start 30 device logins per 10 minutes (several users behind one NAT); the next gets 429 saying why, other addresses go on', async () => {
  const t = await setUp();
  for (let i = 0; i < 30; i++) await t.start();
  const refused = await t.send('POST', '/.postern/cli/device', { ip: CLI_IP });
  assert.equal(refused.status, 429);
  const body = JSON.parse(refused.body) as Record<string, string>;
  assert.equal(body.error, 'too_many_requests');
  assert.match(
    String(body.error_description),
    /Too many device logins .* try again in a few minutes/,
  );
  const other = await t.send('POST', '/.postern/cli/device', { ip: '192.0.2.77' });
  assert.equal(other.status, 200, 'another address is not held back');
  t.clock.advance(600_000);
  assert.equal((await t.send('POST', '/.postern/cli/device', { ip: CLI_IP })).status, 200);
});
