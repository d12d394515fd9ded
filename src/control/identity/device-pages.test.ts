import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, test } from 'node:test';
import { pino, type Logger } from 'pino';
import type { Configuration, IdentityProvider } from '../../config/index.js';
import { FakeClock } from '../../core/index.js';
import { openMemoryStore, type Store } from '../../store/index.js';
import type { AuthResponse } from './auth-html.js';
import type { AuthRequest, DeviceStores } from './auth-pages.js';
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

/** A form of the confirmation page: where it posts and its hidden fields. */
interface PageForm {
  readonly action: string;
  readonly fields: Record<string, string>;
}

/** One edge with the device pages; edges given the same `store` form an HA set. */
async function setUp(
  options: { ttlMs?: number; store?: Store; devices?: DeviceStores; logger?: Logger } = {},
) {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'postern-edge',
    clock,
  });
  const store = options.store ?? (await openMemoryStore({ clock }));
  if (!options.store) stores.push(store);
  const access = new BrowserAccess({
    authority,
    clock,
    devices: options.devices ?? store,
    deviceLoginTtlMs: options.ttlMs,
    logger: options.logger,
    discover: () => Promise.resolve(fakeProvider()),
  });
  access.configure({
    identity_providers: [{ name: 'corp' } as IdentityProvider],
  } as unknown as Configuration);
  const send = async (
    method: string,
    target: string,
    options: { cookie?: string; ip?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<AuthResponse> => {
    const body = Buffer.from(options.body ?? '');
    const req: AuthRequest = {
      method,
      target,
      host: 'edge.example:8444',
      headers: { ...(options.cookie ? { cookie: options.cookie } : {}), ...options.headers },
      secure: true,
      clientIp: options.ip ?? BROWSER_IP,
      readBody: (limit) => Promise.resolve(body.length > limit ? undefined : body),
    };
    const answer = await access.pages.respond(req);
    assert.ok(answer, `${target} is answered`);
    return answer;
  };
  /** Posts a form as a browser does: its fields url-encoded in the body. */
  const post = (
    form: PageForm,
    options: { cookie?: string; ip?: string; headers?: Record<string, string> } = {},
    fields: Record<string, string> = form.fields,
  ) =>
    send('POST', form.action, {
      ...options,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
      body: new URLSearchParams(fields).toString(),
    });
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
  /** The approve and deny forms of the confirmation page. */
  const forms = async (userCode: string, cookie: string) => {
    const page = await send('GET', `/.postern/cli/device?user_code=${userCode}`, { cookie });
    assert.equal(page.status, 200, page.body);
    const found = [
      ...page.body.matchAll(/<form method="post" action="([^"]+)"[^>]*>(.*?)<\/form>/g),
    ];
    const parsed = found.map((m): PageForm => ({
      action: m[1] ?? '',
      fields: Object.fromEntries(
        [...(m[2] ?? '').matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
          (f) => [f[1] ?? '', f[2] ?? ''],
        ),
      ),
    }));
    const approve = parsed.find((f) => f.action === '/.postern/cli/device/approve');
    const deny = parsed.find((f) => f.action === '/.postern/cli/device/deny');
    assert.ok(approve && deny, page.body);
    return { page, approve, deny };
  };
  return { clock, authority, store, access, send, post, start, poll, logIn, forms };
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
  assert.equal(approve.fields.user_code, String(started.user_code).replace('-', ''));
  assert.match(String(approve.fields.csrf), /^[A-Za-z0-9_-]{43}$/, 'the form token is a field');
  const done = await t.post(approve, {
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
  const again = await t.post(approve, { cookie });
  assert.equal(again.status, 401, 'the approval session ended with the decision');
});

test('a GET never decides, and a decision needs the form token and the same site', async () => {
  const t = await setUp();
  const started = await t.start();
  const code = String(started.user_code);
  const cookie = await t.logIn(code);
  const { approve } = await t.forms(code, cookie);
  assert.equal((await t.send('GET', approve.action, { cookie })).status, 405);
  const forged = { ...approve.fields, csrf: 'AAAA' };
  assert.equal((await t.post(approve, { cookie }, forged)).status, 403);
  const noToken = { user_code: String(approve.fields.user_code) };
  assert.equal((await t.post(approve, { cookie }, noToken)).status, 403);
  const evil = { origin: 'https://evil.example' };
  assert.equal((await t.post(approve, { cookie, headers: evil })).status, 403);
  const crossSite = { 'sec-fetch-site': 'cross-site' };
  assert.equal((await t.post(approve, { cookie, headers: crossSite })).status, 403);
  const sameSiteEvil = { 'sec-fetch-site': 'same-site', origin: 'null' };
  assert.equal((await t.post(approve, { cookie, headers: sameSiteEvil })).status, 403);
  const otherBrowser = await t.logIn(code);
  assert.equal(
    (await t.post(approve, { cookie: otherBrowser })).status,
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
  const done = await t.post(deny, { cookie });
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
  const t = await setUp({ ttlMs: 60_000 });
  const started = await t.start();
  assert.equal(started.expires_in, 60);
  const cookie = await t.logIn(String(started.user_code));
  const { approve } = await t.forms(String(started.user_code), cookie);
  t.clock.advance(59_999);
  assert.equal((await t.poll(String(started.device_code))).body.error, 'authorization_pending');
  t.clock.advance(1);
  assert.equal((await t.poll(String(started.device_code))).body.error, 'expired_token');
  const late = await t.post(approve, { cookie });
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
  const approve = {
    action: '/.postern/cli/device/approve',
    fields: { user_code: code, csrf: 'x' },
  };
  assert.equal((await t.post(approve, { cookie })).status, 429);
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
  const t = await setUp({ ttlMs: 3600_000 });
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

test('the forms carry the user code and form token as hidden fields of the POST body; the same fields in the URL are refused', async () => {
  const t = await setUp();
  const started = await t.start();
  const code = String(started.user_code);
  const cookie = await t.logIn(code);
  const { page, approve, deny } = await t.forms(code, cookie);
  assert.deepEqual(Object.keys(approve.fields).sort(), ['csrf', 'user_code']);
  assert.deepEqual(deny.fields, approve.fields);
  const csrf = String(approve.fields.csrf);
  assert.ok(!/(?:action|href|src)="[^"]*csrf/.test(page.body), 'no URL on the page has the token');
  const query = `user_code=${String(approve.fields.user_code)}&csrf=${csrf}`;
  const inQuery = await t.send('POST', `${approve.action}?${query}`, { cookie });
  assert.equal(inQuery.status, 400, 'the fields only in the query');
  assert.match(inQuery.body, /in the POST body, never in the URL/);
  const both = await t.send('POST', `${approve.action}?${query}`, {
    cookie,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: query,
  });
  assert.equal(both.status, 400, 'a URL with the fields is refused even when the body has them');
  assert.equal((await t.poll(String(started.device_code))).body.error, 'authorization_pending');
  const done = await t.post(approve, { cookie });
  assert.equal(done.status, 200, 'the same fields in the body decide');
});

test('a decision needs an application/x-www-form-urlencoded body of at most 2 KiB', async () => {
  const t = await setUp();
  const started = await t.start();
  const cookie = await t.logIn(String(started.user_code));
  const { approve } = await t.forms(String(started.user_code), cookie);
  const body = new URLSearchParams(approve.fields).toString();
  for (const type of ['text/plain', 'application/json', 'multipart/form-data; boundary=x']) {
    const refused = await t.send('POST', approve.action, {
      cookie,
      headers: { 'content-type': type },
      body,
    });
    assert.equal(refused.status, 415, type);
    assert.equal(refused.headers['accept-post'], 'application/x-www-form-urlencoded');
  }
  const long = await t.post(approve, { cookie }, { ...approve.fields, pad: 'x'.repeat(2048) });
  assert.equal(long.status, 413);
  const withCharset = await t.send('POST', approve.action, {
    cookie,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    body,
  });
  assert.equal(withCharset.status, 200, withCharset.body);
});

test('every device answer says Referrer-Policy: no-referrer and Cache-Control: no-store', async () => {
  const t = await setUp();
  const started = await t.start();
  const code = String(started.user_code);
  const cookie = await t.logIn(code);
  const { approve } = await t.forms(code, cookie);
  const answers = [
    await t.send('POST', '/.postern/cli/device', { ip: CLI_IP }),
    await t.send('POST', '/.postern/cli/device/token', { ip: CLI_IP }),
    await t.send('GET', `/.postern/cli/device?user_code=${code}`),
    await t.send('GET', `/.postern/cli/device?user_code=${code}`, { cookie }),
    await t.send('GET', '/.postern/cli/device', { cookie }),
    await t.send('PUT', '/.postern/cli/device', { cookie }),
    await t.post(approve, { cookie }),
  ];
  assert.deepEqual(
    answers.map((a) => [a.status, a.headers['referrer-policy'], a.headers['cache-control']]),
    [200, 400, 302, 200, 200, 405, 200].map((status) => [status, 'no-referrer', 'no-store']),
  );
});

test('wrong codes entered on one edge count on another edge of the same store', async () => {
  const a = await setUp();
  const b = await setUp({ store: a.store });
  const code = String((await a.start()).user_code);
  const wrong = code === 'BBBB-BBBB' ? 'CCCC-CCCC' : 'BBBB-BBBB';
  const onA = await a.logIn(code);
  const onB = await b.logIn(code);
  for (const [edge, cookie] of [
    [a, onA],
    [a, onA],
    [a, onA],
    [b, onB],
    [b, onB],
  ] as const) {
    const page = await edge.send('GET', `/.postern/cli/device?user_code=${wrong}`, { cookie });
    assert.equal(page.status, 400);
  }
  const target = `/.postern/cli/device?user_code=${code}`;
  assert.equal((await b.send('GET', target, { cookie: onB })).status, 429, 'the address on B');
  const fresh = await a.logIn(code);
  assert.equal((await a.send('GET', target, { cookie: fresh })).status, 429, 'the address on A');
  const elsewhere = await b.logIn(code);
  const other = await b.send('GET', target, { cookie: elsewhere, ip: '198.51.100.1' });
  assert.equal(other.status, 200, 'another address with a new session goes on');
});

test('right codes do not count towards the wrong-code lock', async () => {
  const t = await setUp();
  const code = String((await t.start()).user_code);
  const cookie = await t.logIn(code);
  for (let i = 0; i < 8; i++) {
    const page = await t.send('GET', `/.postern/cli/device?user_code=${code}`, { cookie });
    assert.equal(page.status, 200, `view ${i + 1}`);
  }
});

test('starts per address are counted across the edges of a store', async () => {
  const a = await setUp();
  const b = await setUp({ store: a.store });
  for (let i = 0; i < 15; i++) {
    await a.start();
    await b.start();
  }
  assert.equal((await a.send('POST', '/.postern/cli/device', { ip: CLI_IP })).status, 429);
  assert.equal((await b.send('POST', '/.postern/cli/device', { ip: CLI_IP })).status, 429);
});

/** A logger whose JSON entries land in `entries`. */
function capturingLogger(): { logger: Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      entries.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), entries };
}

test('when the store cannot count attempts, codes, decisions and starts get 503 with a reference to the logged error, not its text', async () => {
  const store = await openMemoryStore({ clock: new FakeClock(Date.UTC(2026, 0, 1)) });
  stores.push(store);
  let down = false;
  const real = store.deviceAttempts;
  const check = () => (down ? Promise.reject(new Error('connection refused')) : undefined);
  const devices: DeviceStores = {
    deviceAuthorizations: store.deviceAuthorizations,
    deviceAttempts: {
      increment: (key, at) => check() ?? real.increment(key, at),
      refund: (key, at) => check() ?? real.refund(key, at),
      get: (key, at) => check() ?? real.get(key, at),
      sweep: (before) => check() ?? real.sweep(before),
    },
  };
  const { logger, entries } = capturingLogger();
  const t = await setUp({ store, devices, logger });
  /** The 503 shows a reference that a log entry carries with the full error, not the error's text. */
  const referenced = (answer: AuthResponse, shown: string) => {
    assert.equal(answer.status, 503, answer.body);
    assert.match(shown, /POSTERN_ERR_DEVICE_LIMITS_UNAVAILABLE/);
    assert.doesNotMatch(shown, /cannot reach its store|postern edge --store|connection refused/);
    const reference = /reference: (?:<code>)?([0-9a-f-]{36})/.exec(shown)?.[1];
    assert.ok(reference, `a reference is shown: ${shown}`);
    const entry = entries.find((e) => e['reference'] === reference);
    assert.ok(entry, `a log entry carries ${reference}`);
    assert.equal(entry['msg'], 'device login attempt refused: the store cannot count it');
    assert.match(JSON.stringify(entry['err']), /cannot reach its store[^]*connection refused/);
    return reference;
  };
  const started = await t.start();
  const code = String(started.user_code);
  const cookie = await t.logIn(code);
  const { approve } = await t.forms(code, cookie);
  down = true;
  const page = await t.send('GET', `/.postern/cli/device?user_code=${code}`, { cookie });
  const first = referenced(page, page.body);
  const decided = await t.post(approve, { cookie });
  assert.notEqual(referenced(decided, decided.body), first, 'each refusal has its own reference');
  const start = await t.send('POST', '/.postern/cli/device', { ip: CLI_IP });
  const body = JSON.parse(start.body) as Record<string, string>;
  assert.equal(body.error, 'temporarily_unavailable');
  referenced(start, String(body.error_description));
  assert.equal((await t.poll(String(started.device_code))).body.error, 'authorization_pending');
  down = false;
  assert.equal((await t.post(approve, { cookie })).status, 200, 'works again once it counts');
});

test('the sweep deletes attempt counters once their window ended', async () => {
  const t = await setUp();
  const code = String((await t.start()).user_code);
  const cookie = await t.logIn(code);
  const wrong = code === 'BBBB-BBBB' ? 'CCCC-CCCC' : 'BBBB-BBBB';
  await t.send('GET', `/.postern/cli/device?user_code=${wrong}`, { cookie });
  const key = `device-wrong-code:ip:${BROWSER_IP}`;
  assert.equal((await t.store.deviceAttempts.get(key, t.clock.now()))?.attempts, 1);
  await t.access.pages.sweepDevices();
  assert.equal((await t.store.deviceAttempts.get(key, t.clock.now()))?.attempts, 1, 'kept');
  t.clock.advance(900_001);
  await t.access.pages.sweepDevices();
  assert.equal(await t.store.deviceAttempts.get(key, 0), undefined, 'gone from the store');
});
