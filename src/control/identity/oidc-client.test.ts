// The OIDC client against the repository's test issuer (oidc-provider on 127.0.0.1): which email
// it trusts, and how `max_age` / `auth_time` make a "log in again" a real login at the provider.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import {
  identityProviderSchema,
  type Configuration,
  type IdentityProvider,
} from '../../config/index.js';
import { isPosternError, systemClock, type Clock } from '../../core/index.js';
import {
  startOidcIssuer,
  type OidcIssuer,
  type TestAccount,
} from '../../../test/support/oidc-issuer.js';
import { adminRoleFor, parseAdminRoleMapping } from './admin-role-mapping.js';
import { BrowserAccess } from './browser-access.js';
import { OidcClient, type OidcClientOptions } from './oidc-client.js';
import { UserTokenAuthority } from './user-token.js';

const REDIRECT_URI = 'https://wiki.example/.postern/auth/callback';
const HOPS = 12;

/** Test accounts; `email_verified` overrides the issuer's default (true). */
const ACCOUNTS: Record<string, TestAccount & { email_verified?: unknown }> = {
  alice: { email: 'alice@example.com', name: 'Alice', groups: ['eng'] },
  mallory: { email: 'alice@example.com', name: 'M', groups: ['eng'], email_verified: false },
  trudy: { email: 'alice@example.com', name: 'T', groups: ['eng'], email_verified: 'false' },
  carol: { email: 'carol@example.com', name: 'Carol', groups: [], email_verified: undefined },
};

/** A browser at the provider: a cookie jar, redirects followed by hand, the login form filled. */
class ProviderBrowser {
  readonly #jar = new Map<string, string>();

  async #fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookies = [...this.#jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (cookies !== '') headers.set('cookie', cookies);
    const signal = AbortSignal.timeout(10_000);
    const res = await fetch(url, { ...init, headers, redirect: 'manual', signal });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      const eq = pair.indexOf('=');
      const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.#jar.delete(name);
      else this.#jar.set(name, value);
    }
    return res;
  }

  /** Follows the provider until it returns to the redirect URI, logging in as `user` if asked. */
  async authorize(url: URL, user: string): Promise<{ query: URLSearchParams; prompted: boolean }> {
    let next = url.href;
    let init: RequestInit = {};
    let prompted = false;
    for (let hop = 0; hop < HOPS; hop++) {
      if (next.startsWith(REDIRECT_URI)) return { query: new URL(next).searchParams, prompted };
      const res = await this.#fetch(next, init);
      init = {};
      const location = res.headers.get('location');
      if (location !== null) {
        await res.arrayBuffer();
        next = new URL(location, next).href;
        continue;
      }
      const html = await res.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      assert.ok(action !== undefined && html.includes('name="login"'), html.slice(0, 500));
      prompted = true;
      next = new URL(action, next).href;
      const body = new URLSearchParams({ prompt: 'login', login: user, password: 'any' });
      init = {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      };
    }
    assert.fail(`the provider did not return to ${REDIRECT_URI} within ${HOPS} requests`);
  }
}

/** Log lines written by a pino logger, parsed. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('OIDC client against the test issuer', { timeout: 60_000 }, () => {
  let issuer: OidcIssuer;
  let idp: IdentityProvider;

  before(async () => {
    issuer = await startOidcIssuer({ redirectUris: [REDIRECT_URI], accounts: ACCOUNTS });
    idp = identityProviderSchema.parse({
      name: 'corp',
      issuer: issuer.issuer,
      client_id: issuer.clientId,
      client_secret: issuer.clientSecret,
      scopes: ['openid', 'email', 'profile', 'groups'],
    });
  });
  after(() => issuer.close());

  /** Logs `user` in through `client`; `browser` keeps the provider's session between logins. */
  async function logIn(
    client: OidcClient,
    user: string,
    browser = new ProviderBrowser(),
    options: { freshLogin?: boolean } = {},
  ) {
    const checks = OidcClient.newChecks(REDIRECT_URI);
    const url = await client.authorizationUrl(checks, options);
    const { query, prompted } = await browser.authorize(url, user);
    return { url, prompted, redeem: () => client.redeem(query, checks) };
  }

  test('an email the provider marks unverified (false or "false") is not the user\'s email', async () => {
    const { logger, lines } = capturingLogger();
    const client = await OidcClient.discover(idp, { logger });
    const admins = parseAdminRoleMapping('admin=alice@example.com');
    for (const [user, flag] of [
      ['mallory', false],
      ['trudy', 'false'],
    ] as const) {
      const identity = await (await logIn(client, user)).redeem();
      assert.equal(identity.email, undefined, user);
      assert.equal(identity.subject, user);
      assert.deepEqual(identity.groups, ['eng']);
      assert.equal(adminRoleFor(identity, admins), undefined, user);
      const said = lines.filter((l) => l['subject'] === user);
      assert.equal(said.length, 1, JSON.stringify(lines));
      assert.equal(said[0]?.['level'], 30);
      assert.equal(said[0]?.['email'], 'alice@example.com');
      assert.equal(said[0]?.['email_verified'], flag);
      assert.match(String(said[0]?.['msg']), /unverified/);
    }
  });

  test("a verified email, or one without email_verified, stays the user's email", async () => {
    const { logger, lines } = capturingLogger();
    const client = await OidcClient.discover(idp, { logger });
    assert.equal((await (await logIn(client, 'alice')).redeem()).email, 'alice@example.com');
    assert.equal((await (await logIn(client, 'carol')).redeem()).email, 'carol@example.com');
    assert.deepEqual(lines, []);
  });

  test('max_age makes the provider ask for a login its session would otherwise skip', async () => {
    const limit: { seconds: number | undefined } = { seconds: undefined };
    const client = await OidcClient.discover(idp, { maxAgeSeconds: () => limit.seconds });
    const browser = new ProviderBrowser();
    const first = await logIn(client, 'alice', browser);
    assert.equal(first.prompted, true);
    assert.equal(first.url.searchParams.has('max_age'), false);
    await first.redeem();
    // The provider counts whole seconds: max_age=0 is "too old" from the next second on.
    await sleep(1_050 - (Date.now() % 1_000));
    const silent = await logIn(client, 'alice', browser);
    assert.equal(silent.prompted, false, 'without max_age the provider session is reused');
    await silent.redeem();
    limit.seconds = 0;
    const again = await logIn(client, 'alice', browser);
    assert.equal(again.url.searchParams.get('max_age'), '0');
    assert.equal(again.prompted, true, 'with max_age the provider asks for the login again');
    assert.equal((await again.redeem()).subject, 'alice');
  });

  test('redeem reports auth_time: a login riding on the provider session keeps its first time', async () => {
    // The edge sends max_age whenever a server requires login, which makes providers send auth_time.
    const client = await OidcClient.discover(idp, { maxAgeSeconds: () => 86_400 });
    const browser = new ProviderBrowser();
    const startedAt = Date.now();
    const first = await (await logIn(client, 'alice', browser)).redeem();
    assert.ok(first.authTime !== undefined, 'the provider sent auth_time');
    assert.ok(Math.abs(first.authTime - startedAt) < 5_000, `${first.authTime} vs ${startedAt}`);
    assert.equal(first.authTime % 1000, 0, 'whole seconds, as ms');
    // auth_time counts whole seconds: wait for the next one so a new login would differ.
    await sleep(2_050 - (Date.now() % 1_000));
    const silent = await logIn(client, 'alice', browser);
    assert.equal(silent.prompted, false);
    assert.equal(
      (await silent.redeem()).authTime,
      first.authTime,
      'the provider session began then',
    );
  });

  test("redeem keeps the login's ID token, and the provider's logout accepts it as id_token_hint", async () => {
    const client = await OidcClient.discover(idp);
    assert.equal(client.hasEndSession, true, 'oidc-provider publishes an end_session_endpoint');
    const { idToken, subject } = await (await logIn(client, 'alice')).redeem();
    assert.ok(idToken !== undefined, 'the ID token is kept for the logout');
    const claims = JSON.parse(
      Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { sub?: string; aud?: string };
    assert.equal(claims.sub, subject);
    assert.equal(claims.aud, issuer.clientId);
    const url = client.endSessionUrl({ idTokenHint: idToken });
    assert.ok(url !== undefined);
    assert.equal(url.searchParams.get('id_token_hint'), idToken);
    assert.equal(url.searchParams.get('client_id'), issuer.clientId);
    // The provider validates the hint: it goes on to its logout for the right one...
    const accepted = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    const page = await accepted.text();
    assert.equal(accepted.status, 200, page.slice(0, 300));
    assert.match(page, /session\/end\/confirm/);
    // ...and refuses a forged one (so the accepted one was really checked).
    const forged = new URL(url);
    const [head, body] = idToken.split('.');
    forged.searchParams.set('id_token_hint', `${head}.${body}.${'A'.repeat(86)}`);
    const refused = await fetch(forged, {
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(refused.status, 400, (await refused.text()).slice(0, 300));
  });

  test('a fresh login (after a logout) sends prompt=login, and the provider asks again', async () => {
    const client = await OidcClient.discover(idp);
    const browser = new ProviderBrowser();
    await (await logIn(client, 'alice', browser)).redeem();
    const silent = await logIn(client, 'alice', browser);
    assert.equal(silent.prompted, false, 'the provider session is reused');
    assert.equal(silent.url.searchParams.has('prompt'), false);
    await silent.redeem();
    const fresh = await logIn(client, 'alice', browser, { freshLogin: true });
    assert.equal(fresh.url.searchParams.get('prompt'), 'login');
    assert.equal(fresh.prompted, true, 'prompt=login makes the provider show its login form');
    assert.equal((await fresh.redeem()).subject, 'alice');
  });

  test('an ID token whose auth_time is older than max_age allows is refused', async () => {
    // The edge's clock runs ahead of the provider's: its auth_time looks two hours old.
    let aheadMs = 2 * 3_600_000;
    const clock: Clock = { ...systemClock, now: () => Date.now() + aheadMs };
    const options: OidcClientOptions = { clock, maxAgeSeconds: () => 3_600 };
    const client = await OidcClient.discover(idp, options);
    const login = await logIn(client, 'alice');
    assert.equal(login.url.searchParams.get('max_age'), '3600');
    await assert.rejects(login.redeem(), (err: Error) => {
      assert.ok(isPosternError(err, 'POSTERN_ERR_LOGIN_FAILED'), String(err));
      assert.match(err.message, /authenticated the user 7\d{3} s ago.*max_age=3600/);
      return true;
    });
    // The same login within the limit is accepted.
    aheadMs = 3_000_000;
    assert.equal((await (await logIn(client, 'alice')).redeem()).subject, 'alice');
  });

  test('an ID token without auth_time is refused when max_age is required', async () => {
    const limit: { seconds: number | undefined } = { seconds: undefined };
    const client = await OidcClient.discover(idp, { maxAgeSeconds: () => limit.seconds });
    const browser = new ProviderBrowser();
    await (await logIn(client, 'alice', browser)).redeem();
    // The provider adds auth_time only when asked (max_age) or when it showed a login.
    const silent = await logIn(client, 'alice', browser);
    assert.equal(silent.prompted, false);
    limit.seconds = 3_600;
    await assert.rejects(silent.redeem(), (err: Error) => {
      assert.ok(isPosternError(err, 'POSTERN_ERR_LOGIN_FAILED'), String(err));
      assert.match(err.message, /no auth_time although max_age=3600/);
      return true;
    });
  });

  test('browser logins send the shortest reauthentication timeout of the servers as max_age', async () => {
    const authority = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
      issuer: 'postern-edge',
    });
    const access = new BrowserAccess({ authority });
    try {
      const vs = (name: string, access: Record<string, unknown>, protocol = 'https') => ({
        name,
        protocol,
        access: { login: 'required', identity_provider: 'corp', ...access },
      });
      access.configure({
        identity_providers: [idp],
        virtual_servers: [
          vs('wiki', { reauthentication_timeout_ms: 7_200_000 }),
          vs('docs', { reauthentication_timeout_ms: 3_600_500 }),
          vs('public', { login: 'none', reauthentication_timeout_ms: 600_000 }),
          vs('other', { identity_provider: 'elsewhere', reauthentication_timeout_ms: 600_000 }),
        ],
      } as unknown as Configuration);
      assert.equal(access.maxAgeSeconds('corp'), 3_600);
      assert.equal(access.maxAgeSeconds('elsewhere'), 600);
      const res = await access.pages.startBrowserLogin(
        { method: 'GET', target: '/', host: 'wiki.example', headers: {}, secure: true },
        { virtualServer: 'wiki', identityProvider: 'corp' },
      );
      assert.equal(res.status, 302, res.body);
      const location = new URL(String(res.headers['location']));
      assert.equal(location.origin, issuer.issuer);
      assert.equal(location.searchParams.get('max_age'), '3600');
    } finally {
      access.close();
    }
  });
});
