// Browser access end to end: an OIDC provider (oidc-provider) on 127.0.0.1, an in-process edge
// with an https virtual server that requires login, and a private web app that lives in a
// network namespace behind a connector. Headless Chromium logs users in. Needs root (network
// namespaces); fails, never skips, without it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Page } from 'playwright-core';
import { gotoSteadily, logInAtProvider, submitSteadily } from '../support/browser.js';
import { CLI_AUDIENCE, type AccessDecisionEntry } from '../../src/control/index.js';
import type { TestEdge } from '../harness/harness.js';
import type { OidcIssuer } from '../support/oidc-issuer.js';
import { LoginLab } from './support/login-lab.js';
import { outputOf, startBrowserLogin, storedCredential } from './support/postern-login.js';

const STEP_TIMEOUT_MS = 20_000;

interface AppAnswer {
  path: string;
  user: string | null;
  email: string | null;
  groups: string | null;
  cookie: string | null;
  assertion: { ok: boolean; sub?: string; groups?: string[]; error?: string };
}

/** A plain HTTPS GET that ignores the edge's self-signed certificate and follows nothing. */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; location?: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { headers, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }),
      );
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

describe('browser access through an OIDC login (network namespace)', { timeout: 180_000 }, () => {
  let lab: LoginLab | undefined;
  let dir = '';
  let issuer: OidcIssuer | undefined;
  let edge: TestEdge | undefined;
  let base = '';
  const decisions: AccessDecisionEntry[] = [];

  before(async () => {
    lab = await LoginLab.start({
      name: 'oidc',
      providers: {
        corp: {
          alice: { email: 'alice@example.com', name: 'Alice', groups: ['eng'] },
          bob: { email: 'bob@example.com', name: 'Bob', groups: ['sales'] },
        },
      },
      edges: {
        wiki: { onAccessDecision: (entry) => decisions.push(entry), cliTokenTtlMs: 2 * 3600_000 },
      },
      virtualServer: 'wiki',
      accessPolicies: [
        {
          name: 'eng-only',
          action: 'allow',
          conditions: { groups: ['eng'], virtual_servers: ['wiki'] },
        },
        { name: 'deny-others', action: 'deny', conditions: { virtual_servers: ['wiki'] } },
      ],
      privateApp: true,
    });
    dir = lab.dir;
    issuer = lab.issuer('corp');
    edge = lab.edge('wiki');
    base = lab.base('wiki');
  });

  after(() => lab?.close());

  const newContext = () => lab!.newContext();

  const appAnswer = async (page: Page): Promise<AppAnswer> =>
    JSON.parse((await page.textContent('body')) ?? '') as AppAnswer;

  /** Opens `path` on the virtual server, logs in there as `user` and waits to be back at `path`. */
  const logInThrough = async (page: Page, path: string, user: string) => {
    await gotoSteadily(page, `${base}${path}`);
    await logInAtProvider(page, user, STEP_TIMEOUT_MS);
    await page.waitForURL(`${base}${path}`, { timeout: STEP_TIMEOUT_MS });
  };

  it('logs a user in, returns to the page asked for, and sends the identity to the app', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      await gotoSteadily(page, `${base}/docs/page?x=1`);
      assert.ok(page.url().startsWith(issuer!.issuer), `sent to the provider, at ${page.url()}`);
      await logInAtProvider(page, 'alice', STEP_TIMEOUT_MS);
      await page.waitForURL(`${base}/docs/page?x=1`, { timeout: STEP_TIMEOUT_MS });
      const answer = await appAnswer(page);
      assert.equal(answer.path, '/docs/page?x=1');
      assert.equal(answer.user, 'alice@example.com');
      assert.equal(answer.email, 'alice@example.com');
      assert.equal(answer.groups, 'eng');
      assert.equal(answer.cookie, null, 'the app never sees the session cookie');
      assert.deepEqual(
        { ok: answer.assertion.ok, sub: answer.assertion.sub, groups: answer.assertion.groups },
        { ok: true, sub: 'alice', groups: ['eng'] },
      );
      const session = (await context.cookies(base)).find(
        (c) => c.name === '__Host-postern-session-wiki',
      );
      assert.ok(session, 'a session cookie was set');
      assert.deepEqual(
        {
          secure: session.secure,
          httpOnly: session.httpOnly,
          sameSite: session.sameSite,
          path: session.path,
        },
        { secure: true, httpOnly: true, sameSite: 'Lax', path: '/' },
      );

      const spoofed = await context.request.get(`${base}/again`, {
        headers: { 'X-Postern-User': 'mallory@example.com', 'X-Postern-Groups': 'admins' },
      });
      const seen = (await spoofed.json()) as AppAnswer;
      assert.equal(seen.user, 'alice@example.com', 'incoming identity headers are replaced');
      assert.equal(seen.groups, 'eng');

      const allowed = decisions.find((d) => d.user === 'alice@example.com');
      assert.equal(allowed?.action, 'allow');
      assert.equal(allowed?.rule, 'eng-only');
      assert.equal(allowed?.client_type, 'browser');
      assert.equal(allowed?.virtual_server, 'wiki');

      // A GET of the logout URL (as an <img> on any site would send) only shows a button, and
      // a POST without the page's token is refused: neither logs the user out.
      const viaImage = await rawGet(`${base}/.postern/auth/logout`, {
        cookie: `${session.name}=${session.value}`,
      });
      assert.equal(viaImage.status, 200);
      assert.match(viaImage.body, /id="logout"/);
      const forged = await context.request.post(`${base}/.postern/auth/logout`, {
        form: { csrf: 'forged' },
        headers: { origin: base },
      });
      assert.equal(forged.status(), 403);
      assert.equal(
        ((await (await context.request.get(`${base}/still`)).json()) as AppAnswer).user,
        'alice@example.com',
      );

      // The button ends the session on the edge, then the provider's own logout (RP-initiated)
      // ends its session and returns to Postern's logged-out page.
      await gotoSteadily(page, `${base}/.postern/auth/logout`);
      assert.match((await page.textContent('h1')) ?? '', /Log out\?/);
      await submitSteadily(page, '#logout', STEP_TIMEOUT_MS);
      await page.waitForURL((u) => u.href.startsWith(`${issuer!.issuer}/session/end`), {
        timeout: STEP_TIMEOUT_MS,
      });
      const ended = new URL(page.url());
      assert.equal(ended.searchParams.get('client_id'), issuer!.clientId);
      // The login's ID token tells the provider whose session ends; it accepted it (no error).
      assert.equal(
        ended.searchParams.get('id_token_hint')?.split('.').length,
        3,
        'the logout sends id_token_hint',
      );
      await submitSteadily(page, 'button[name="logout"][value="yes"]', STEP_TIMEOUT_MS);
      await page.waitForURL(`${base}/.postern/auth/logged-out`, { timeout: STEP_TIMEOUT_MS });
      assert.match((await page.textContent('h1')) ?? '', /Logged out/);
      assert.ok(
        (await context.cookies(base)).some((c) => c.name === '__Host-postern-logged-out'),
        'the next login asks for a fresh login',
      );
      const replay = await rawGet(`${base}/docs/page`, {
        cookie: `${session.name}=${session.value}`,
      });
      assert.equal(replay.status, 302);
      assert.ok(
        replay.location?.startsWith(issuer!.issuer),
        `replay sent to login: ${replay.location}`,
      );
    } finally {
      await context.close();
    }
  });

  it("a login riding on the provider's session keeps that session's auth_time, which starts the reauthentication deadline", async () => {
    const context = await newContext();
    const stored = async () => {
      const cookie = (await context.cookies(base)).find(
        (c) => c.name === '__Host-postern-session-wiki',
      );
      assert.ok(cookie, 'a session cookie was set');
      const key = createHash('sha256').update(cookie.value).digest('base64url');
      const session = await edge!.store.sessions.getSession(key);
      assert.ok(session, 'the session is in the store');
      return session;
    };
    try {
      const page = await context.newPage();
      await logInThrough(page, '/first', 'alice');
      const first = await stored();
      assert.ok(first.authTime !== undefined, 'the provider auth_time is kept');
      assert.ok(first.authenticatedAt - first.authTime < 10_000, JSON.stringify(first));
      // auth_time counts whole seconds: a second login at the provider would differ now.
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      await context.clearCookies({ name: '__Host-postern-session-wiki' });
      await gotoSteadily(page, `${base}/second`);
      // No login form: the provider's session is reused.
      await page.waitForURL(`${base}/second`, { timeout: STEP_TIMEOUT_MS });
      const second = await stored();
      assert.notEqual(second.key, first.key, 'a new Postern session');
      assert.equal(second.authTime, first.authTime, 'auth_time of the provider session');
      assert.ok(second.authenticatedAt - (second.authTime ?? 0) >= 2_000, JSON.stringify(second));
    } finally {
      await context.close();
    }
  });

  it('shows a user outside the allowed group a 403 page that names the denying rule', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      await logInThrough(page, '/', 'bob');
      const response = await page.reload();
      assert.equal(response?.status(), 403);
      const text = (await page.textContent('body')) ?? '';
      assert.match(text, /Access denied/);
      assert.match(text, /deny-others/);
      assert.match(text, /bob@example\.com/);
      const denied = decisions.find((d) => d.user === 'bob@example.com');
      assert.equal(denied?.action, 'deny');
      assert.equal(denied?.rule, 'deny-others');
    } finally {
      await context.close();
    }
  });

  it('publishes the JWK set on the virtual server and the admin listener alike', async () => {
    const onServer = await rawGet(`${base}/.postern/jwks.json`, {});
    assert.equal(onServer.status, 200);
    const onAdmin = await (await fetch(`${edge!.adminUrl}/api/v1/jwks.json`)).json();
    assert.deepEqual(JSON.parse(onServer.body), onAdmin);
  });

  /** Runs `postern login --no-browser` and returns it once it printed the login URL. */
  const startCliLogin = (configDir: string) =>
    startBrowserLogin(base, { configDir, ca: lab!.caFile });

  it('postern login stores a CLI token after Allow; no URL the browser saw holds the token', async () => {
    const configDir = join(dir, 'cli-config');
    const { cli, url } = await startCliLogin(configDir);
    try {
      const context = await newContext();
      const seen: string[] = [];
      try {
        const page = await context.newPage();
        page.on('framenavigated', (frame) => seen.push(frame.url()));
        await gotoSteadily(page, url);
        await logInAtProvider(page, 'alice', STEP_TIMEOUT_MS);
        await page.waitForSelector('#allow', { timeout: STEP_TIMEOUT_MS });
        const text = (await page.textContent('body')) ?? '';
        assert.match(text, /alice@example\.com/);
        assert.match(text, /127\.0\.0\.1:\d+/);
        assert.match(text, /valid for 2 hours/);
        await submitSteadily(page, '#allow', STEP_TIMEOUT_MS);
        await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/, { timeout: STEP_TIMEOUT_MS });
        await page.waitForSelector('h1', { timeout: STEP_TIMEOUT_MS });
        assert.match((await page.textContent('h1')) ?? '', /Logged in/);
        const history = [...seen, page.url()];
        assert.ok(
          history.some((u) => /[?&]code=/.test(u)),
          history.join('\n'),
        );
        assert.ok(!history.some((u) => /[?&]token=/.test(u)), history.join('\n'));
      } finally {
        await context.close();
      }
      const exit = await cli.exited;
      assert.equal(exit.code, 0, outputOf(cli));
      assert.equal((await stat(join(configDir, 'credentials.json'))).mode & 0o777, 0o600);
      const credential = await storedCredential(configDir, base);
      assert.equal(credential.user, 'alice@example.com');
      const verified = await edge!.tokenAuthority.verify(credential.token, {
        audience: CLI_AUDIENCE,
      });
      assert.equal(verified.identity.subject, 'alice');
      assert.deepEqual(verified.identity.groups, ['eng']);
      const hours = (verified.expiresAt - Date.now()) / 3_600_000;
      assert.ok(
        hours > 1.9 && hours <= 2,
        `valid for the edge's cliTokenTtlMs (2 h), got ${hours}`,
      );
      const jwks = (await (
        await fetch(`${edge!.adminUrl}/api/v1/jwks.json`)
      ).json()) as JSONWebKeySet;
      const { payload } = await jwtVerify(credential.token, createLocalJWKSet(jwks), {
        audience: CLI_AUDIENCE,
      });
      assert.equal(payload.sub, 'alice');
    } finally {
      if (!cli.hasExited) await cli.stop('SIGTERM', 5_000);
    }
  });

  it('Deny on the confirmation page makes postern login fail and store nothing', async () => {
    const configDir = join(dir, 'cli-config-denied');
    const { cli, url } = await startCliLogin(configDir);
    try {
      const context = await newContext();
      try {
        const page = await context.newPage();
        await gotoSteadily(page, url);
        await logInAtProvider(page, 'alice', STEP_TIMEOUT_MS);
        await page.waitForSelector('#deny', { timeout: STEP_TIMEOUT_MS });
        await submitSteadily(page, '#deny', STEP_TIMEOUT_MS);
        await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/, { timeout: STEP_TIMEOUT_MS });
      } finally {
        await context.close();
      }
      const exit = await cli.exited;
      assert.notEqual(exit.code, 0);
      assert.ok(
        cli.lines.some((l) => l.text.includes('POSTERN_ERR_LOGIN_DENIED')),
        outputOf(cli),
      );
      await assert.rejects(stat(join(configDir, 'credentials.json')), { code: 'ENOENT' });
    } finally {
      if (!cli.hasExited) await cli.stop('SIGTERM', 5_000);
    }
  });

  it('a crafted CLI login link stops at the confirmation page: nothing reaches its callback', async () => {
    const grabbed: string[] = [];
    const grab = http.createServer((req, res) => {
      grabbed.push(req.url ?? '');
      res.end('grabbed');
    });
    await new Promise<void>((resolve) => grab.listen(0, '127.0.0.1', resolve));
    const context = await newContext();
    try {
      const page = await context.newPage();
      // An open session at the identity provider, as the victim would have.
      await logInThrough(page, '/', 'alice');
      const port = (grab.address() as AddressInfo).port;
      const link = new URL(`${base}/.postern/cli/login`);
      link.searchParams.set('callback', `http://127.0.0.1:${port}/grab`);
      link.searchParams.set('state', 'attackerchosen-state');
      link.searchParams.set('code_challenge', 'a'.repeat(43));
      link.searchParams.set('code_challenge_method', 'S256');
      await gotoSteadily(page, link.href);
      await page.waitForSelector('#allow', { timeout: STEP_TIMEOUT_MS });
      assert.match(page.url(), new RegExp(`^${base}/`));
      assert.match((await page.textContent('body')) ?? '', new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.deepEqual(grabbed, [], 'the callback got nothing without Allow');
    } finally {
      await context.close();
      await new Promise<void>((resolve) => grab.close(() => resolve()));
    }
  });

  it('does not let the CLI login redirect anywhere but a loopback callback', async () => {
    const evil = await rawGet(
      `${base}/.postern/cli/login?callback=${encodeURIComponent('https://evil.example/cb')}&state=${'s'.repeat(20)}`,
      {},
    );
    assert.equal(evil.status, 400);
  });
});
