import test from 'node:test';
import assert from 'node:assert/strict';
import type { IdentityProvider } from '../../config/index.js';
import { FakeClock } from '../../core/index.js';
import type { AuthResponse } from './auth-html.js';
import { IdentityProviders } from './identity-providers.js';
import type { AuthorizationChecks, OidcClient } from './oidc-client.js';
import {
  MAX_LOGIN_COOKIES,
  MAX_RETURN_PATH_BYTES,
  ProviderLogin,
  type LoginRequest,
  type RedeemedLogin,
  validHost,
} from './provider-login.js';
import { MemorySessionStore, type PendingLogin } from './session-store.js';

const alice = { subject: 'alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' };

/** Stands in for the provider: any code is alice's; a fresh login shows as prompt=login. */
function fakeProvider(): OidcClient {
  const client = {
    authorizationUrl: (checks: AuthorizationChecks, options: { freshLogin?: boolean } = {}) => {
      const url = new URL('https://idp.example/authorize');
      url.searchParams.set('state', checks.state);
      if (options.freshLogin === true) url.searchParams.set('prompt', 'login');
      return Promise.resolve(url);
    },
    redeem: () => Promise.resolve(alice),
  };
  return client as unknown as OidcClient;
}

/** A memory store that also records every pending login written. */
class RecordingStore extends MemorySessionStore {
  readonly written: PendingLogin[] = [];

  override putPendingLogin(login: PendingLogin): Promise<void> {
    this.written.push(login);
    return super.putPendingLogin(login);
  }
}

function setUp(options: { startsPerMinute?: number } = {}) {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const store = new RecordingStore();
  const providers = new IdentityProviders({ discover: () => Promise.resolve(fakeProvider()) });
  providers.update([{ name: 'corp' } as IdentityProvider]);
  const logins = new ProviderLogin({
    store,
    providers,
    clock,
    callbackPath: '/.postern/auth/callback',
    ...options,
  });
  return { clock, store, logins };
}

/** A browser's cookie jar: applies Set-Cookie fields and writes the Cookie field. */
class Jar {
  readonly #cookies = new Map<string, string>();

  apply(page: AuthResponse): void {
    const set = page.headers['set-cookie'] ?? [];
    for (const field of typeof set === 'string' ? [set] : set) {
      const [pair = ''] = field.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (/Max-Age=0\b/.test(field)) this.#cookies.delete(name);
      else this.#cookies.set(name, pair.slice(eq + 1));
    }
  }

  get header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get names(): string[] {
    return [...this.#cookies.keys()];
  }
}

function request(jar: Jar, clientIp = '192.0.2.7'): LoginRequest {
  return {
    host: 'wiki.example',
    headers: { cookie: jar.header },
    secure: true,
    virtualServer: 'wiki',
    clientIp,
  };
}

const browserLogin = { kind: 'browser', identityProvider: 'corp', virtualServer: 'wiki' } as const;

async function start(logins: ProviderLogin, jar: Jar, returnTo = '/'): Promise<string> {
  const page = await logins.start(request(jar), { ...browserLogin, returnTo });
  assert.equal(page.status, 302, page.body);
  jar.apply(page);
  return new URL(String(page.headers['location'])).searchParams.get('state') ?? '';
}

function redeemed(done: RedeemedLogin | AuthResponse): RedeemedLogin {
  assert.ok(!('status' in done), `expected a redeemed login, got ${JSON.stringify(done)}`);
  return done;
}

test('logins started in two tabs of one browser both finish, each removing only its own cookie', async () => {
  const { logins } = setUp();
  const jar = new Jar();
  const first = await start(logins, jar, '/first');
  const second = await start(logins, jar, '/second');
  assert.equal(jar.names.length, 2, 'one login cookie per login');
  const a = redeemed(
    await logins.redeem(request(jar), new URLSearchParams({ state: first }), 'browser or cli'),
  );
  assert.equal(a.pending.returnTo, '/first');
  jar.apply({ status: 302, headers: { 'set-cookie': a.clearCookie }, body: '' });
  assert.equal(jar.names.length, 1, 'the first login removed its cookie only');
  const b = redeemed(
    await logins.redeem(request(jar), new URLSearchParams({ state: second }), 'browser or cli'),
  );
  assert.equal(b.pending.returnTo, '/second');
  jar.apply({ status: 302, headers: { 'set-cookie': b.clearCookie }, body: '' });
  assert.deepEqual(jar.names, []);
});

test('a callback from a browser that did not start the login fails and leaves the login usable', async () => {
  const { logins } = setUp();
  const victim = new Jar();
  const state = await start(logins, victim);
  const attacker = new Jar();
  await start(logins, attacker);
  const query = new URLSearchParams({ state, code: 'x' });
  const forged = await logins.redeem(request(attacker), query, 'browser or cli');
  assert.ok('status' in forged);
  assert.equal(forged.status, 400);
  assert.match(forged.body, /Login not started here/);
  // The forged callback did not use up the pending login: its own browser still finishes it.
  redeemed(await logins.redeem(request(victim), query, 'browser or cli'));
  const replay = await logins.redeem(request(victim), query, 'browser or cli');
  assert.ok('status' in replay && replay.status === 400, 'a state is used once');
});

test('a browser holds at most MAX_LOGIN_COOKIES login cookies, the oldest are dropped', async () => {
  const { logins } = setUp();
  const jar = new Jar();
  const states: string[] = [];
  for (let i = 0; i < MAX_LOGIN_COOKIES + 3; i++) states.push(await start(logins, jar));
  assert.equal(jar.names.length, MAX_LOGIN_COOKIES);
  const newest = states.at(-1) ?? '';
  redeemed(
    await logins.redeem(request(jar), new URLSearchParams({ state: newest }), 'browser or cli'),
  );
  const oldest = await logins.redeem(
    request(jar),
    new URLSearchParams({ state: states[0] ?? '' }),
    'browser or cli',
  );
  assert.ok('status' in oldest && oldest.status === 400, 'the oldest login was dropped');
});

test('a return path longer than MAX_RETURN_PATH_BYTES is stored as /', async () => {
  const { logins, store } = setUp();
  const fits = `/${'a'.repeat(MAX_RETURN_PATH_BYTES - 1)}`;
  await start(logins, new Jar(), fits);
  await start(logins, new Jar(), `${fits}b`);
  await start(logins, new Jar(), `/${'é'.repeat(MAX_RETURN_PATH_BYTES / 2)}`);
  assert.deepEqual(
    store.written.map((p) => p.returnTo.length),
    [MAX_RETURN_PATH_BYTES, 1, 1],
  );
});

test('logins started per client address are limited per minute, then 429 until it is over', async () => {
  const { logins, store, clock } = setUp({ startsPerMinute: 3 });
  const login = { ...browserLogin, returnTo: '/' };
  for (let i = 0; i < 3; i++) {
    assert.equal((await logins.start(request(new Jar()), login)).status, 302);
  }
  const refused = await logins.start(request(new Jar()), login);
  assert.equal(refused.status, 429);
  assert.match(refused.body, /Too many logins/);
  assert.equal(refused.headers['retry-after'], '60');
  assert.equal(store.written.length, 3, 'a refused start writes nothing');
  const other = await logins.start(request(new Jar(), '198.51.100.1'), login);
  assert.equal(other.status, 302, 'other addresses are not affected');
  const { clientIp: _, ...noAddress } = request(new Jar());
  for (let i = 0; i < 4; i++) {
    assert.equal((await logins.start(noAddress, login)).status, 302, 'no address, no shared key');
  }
  clock.advance(60_000);
  assert.equal((await logins.start(request(new Jar()), login)).status, 302);
});

test('a Host longer than a DNS name and a port is refused before anything is stored', async () => {
  const { logins, store } = setUp();
  const label = 'a'.repeat(63);
  const longest = `${[label, label, label, 'a'.repeat(61)].join('.')}:65535`;
  assert.equal(longest.length, 259);
  assert.ok(validHost(longest));
  const tooLong = `${'a.'.repeat(2000)}example`;
  assert.ok(!validHost(tooLong));
  const page = await logins.start(
    { ...request(new Jar()), host: tooLong },
    { ...browserLogin, returnTo: '/' },
  );
  assert.equal(page.status, 400);
  assert.equal(store.written.length, 0);
});

test('after a logout the next login asks the provider for a fresh login once (prompt=login)', async () => {
  const { logins } = setUp();
  const jar = new Jar();
  const plain = await logins.start(request(jar), { ...browserLogin, returnTo: '/' });
  assert.equal(new URL(String(plain.headers['location'])).searchParams.get('prompt'), null);
  // What the logout page sets.
  jar.apply({
    status: 200,
    headers: { 'set-cookie': '__Host-postern-logged-out=1; Max-Age=600' },
    body: '',
  });
  const fresh = await logins.start(request(jar), { ...browserLogin, returnTo: '/' });
  assert.equal(new URL(String(fresh.headers['location'])).searchParams.get('prompt'), 'login');
  jar.apply(fresh);
  assert.ok(!jar.names.includes('__Host-postern-logged-out'), 'the marker is used up');
  const after = await logins.start(request(jar), { ...browserLogin, returnTo: '/' });
  assert.equal(new URL(String(after.headers['location'])).searchParams.get('prompt'), null);
});
