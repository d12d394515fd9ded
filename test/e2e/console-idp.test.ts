/**
 * Console sign-in with the identity provider, in a real browser (Debian's Chromium through
 * playwright-core) against a real edge and a real OpenID Connect provider (oidc-provider on
 * 127.0.0.1): an admin-group user creates a provisioning key, a viewer reads but may not create,
 * an unmapped user is refused with a page saying why, and the audit log names the user. Set
 * POSTERN_CONSOLE_SCREENSHOTS to a directory to also save screenshots of the pages there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { gotoSteadily, launchChromium, logInAtProvider } from '../support/browser.js';
import { parseAdminRoleMapping } from '../../src/control/index.js';
import { freePort, startTestEdge, tempDir, type TestEdge } from '../harness/harness.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';

/** Where `npm run build` puts the console, relative to this compiled file (dist/test/e2e). */
const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));
const STEP_MS = 15_000;
const SCREENSHOTS = process.env.POSTERN_CONSOLE_SCREENSHOTS;

let browser: Browser;
let edge: TestEdge;
let issuer: OidcIssuer;
let dir: string;
/** Script errors and CSP refusals on console pages; checked once at the end. */
const misbehaviour: string[] = [];

before(async () => {
  assert.ok(existsSync(join(CONSOLE_DIR, 'index.html')), `no built console at ${CONSOLE_DIR}`);
  dir = await tempDir('postern-console-idp-');
  const adminPort = await freePort();
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  issuer = await startOidcIssuer({
    redirectUris: [`${adminUrl}/.postern/admin/callback`],
    accounts: {
      alice: { email: 'alice@example.com', name: 'Alice', groups: ['postern-admins', 'staff'] },
      vera: { email: 'vera@example.com', name: 'Vera', groups: ['staff'] },
      mallory: { email: 'mallory@example.com', name: 'Mallory', groups: ['sales'] },
    },
  });
  const configDir = join(dir, 'config');
  await mkdir(configDir, { recursive: true });
  await writeFile(
    join(configDir, 'idp.json'),
    JSON.stringify({
      version: 1,
      connector_groups: [{ name: 'idp-site' }],
      identity_providers: [
        {
          name: 'corp',
          issuer: issuer.issuer,
          client_id: issuer.clientId,
          client_secret: issuer.clientSecret,
          scopes: ['openid', 'email', 'profile', 'groups'],
        },
      ],
    }),
  );
  edge = await startTestEdge({
    dataDir: join(dir, 'edge'),
    configDir,
    consoleDir: CONSOLE_DIR,
    adminListen: `127.0.0.1:${adminPort}`,
    adminSignIn: {
      identityProvider: 'corp',
      roles: parseAdminRoleMapping('admin=postern-admins,viewer=staff'),
    },
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await edge?.stop();
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  assert.deepEqual(misbehaviour, []);
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => misbehaviour.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) misbehaviour.push(`CSP: ${m.text()}`);
  });
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** From the console's sign-in page through the provider's login form (any password). */
async function signInWithIdp(page: Page, user: string): Promise<void> {
  await gotoSteadily(page, `${edge.adminUrl}/`);
  const start = page.getByRole('link', { name: 'Sign in with corp' });
  await start.waitFor({ timeout: STEP_MS });
  await screenshot(page, 'sign-in-with-idp');
  await start.click();
  await logInAtProvider(page, user, STEP_MS);
}

async function open(page: Page, section: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: section }).click();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
}

test('an admin-group user signs in with the identity provider and creates a provisioning key', async () => {
  const page = await newPage();
  try {
    await signInWithIdp(page, 'alice');
    await page.getByRole('navigation').waitFor({ timeout: STEP_MS });
    await page.getByText('Signed in as alice@example.com (admin)').waitFor({ timeout: STEP_MS });
    // The token left the address bar; it lives in this tab's session storage only.
    assert.equal(new URL(page.url()).hash, '');
    const token = String(await page.evaluate("sessionStorage.getItem('postern.adminToken')"));
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      aud: string;
      role: string;
      exp: number;
      iat: number;
    };
    assert.equal(claims.aud, 'postern:admin');
    assert.equal(claims.role, 'admin');
    assert.equal(claims.exp - claims.iat, 3600);

    await open(page, 'Groups & keys');
    await page.getByRole('combobox', { name: /^Group/ }).selectOption('idp-site');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.locator('#new-key-value').waitFor({ timeout: STEP_MS });
    await screenshot(page, 'idp-admin-key');
    const keys = await edge.api<{ items: { group: string }[] }>('GET', '/provisioning-keys');
    assert.equal(keys.body.items.filter((k) => k.group === 'idp-site').length, 1);

    // The audit log, read through the console, names the user as the actor.
    await open(page, 'Audit log');
    await page
      .getByRole('row', { name: /user:alice@example\.com.*provisioning-keys/ })
      .first()
      .waitFor({ timeout: STEP_MS });
    const audit = await edge.api<{ items: { actor: string; path: string; status: number }[] }>(
      'GET',
      '/audit-log?actor=user:alice@example.com',
    );
    assert.ok(
      audit.body.items.some((r) => r.path === '/api/v1/provisioning-keys' && r.status === 201),
      JSON.stringify(audit.body),
    );

    // Signing out forgets the token: a reload shows the sign-in page again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with corp' }).waitFor({ timeout: STEP_MS });
    assert.equal(await page.evaluate("sessionStorage.getItem('postern.adminToken')"), null);
    await page.reload();
    await page.getByRole('link', { name: 'Sign in with corp' }).waitFor({ timeout: STEP_MS });
    assert.equal(await page.getByRole('navigation').count(), 0);
  } finally {
    await page.context().close();
  }
});

test('a viewer-mapped user sees the lists but is told why creating a key is not allowed', async () => {
  const page = await newPage();
  try {
    await signInWithIdp(page, 'vera');
    await page.getByText('Signed in as vera@example.com (viewer)').waitFor({ timeout: STEP_MS });
    await open(page, 'Groups & keys');
    await page
      .getByRole('row', { name: /idp-site/ })
      .first()
      .waitFor({ timeout: STEP_MS });
    await page.getByRole('combobox', { name: /^Group/ }).selectOption('idp-site');
    await page.getByRole('button', { name: 'Create key' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'POSTERN_ERR_FORBIDDEN' });
    await alert.waitFor({ timeout: STEP_MS });
    const text = (await alert.textContent()) ?? '';
    assert.match(text, /vera@example\.com with role "viewer"/);
    assert.match(text, /needs role "admin"/);
    await screenshot(page, 'idp-viewer-forbidden');
    assert.equal(await page.locator('#new-key-value').count(), 0);

    // The refused attempt is audited under the user's name too.
    const audit = await edge.api<{ items: { path: string; status: number; outcome: string }[] }>(
      'GET',
      '/audit-log?actor=user:vera@example.com',
    );
    assert.ok(
      audit.body.items.some(
        (r) =>
          r.path === '/api/v1/provisioning-keys' && r.status === 403 && r.outcome === 'failure',
      ),
      JSON.stringify(audit.body),
    );
  } finally {
    await page.context().close();
  }
});

test('a user whose groups map to no role is refused with a page saying why, and gets no token', async () => {
  const page = await newPage();
  try {
    await signInWithIdp(page, 'mallory');
    await page
      .getByRole('heading', { name: 'Not an administrator of this edge' })
      .waitFor({ timeout: STEP_MS });
    const body = (await page.textContent('body')) ?? '';
    assert.match(body, /POSTERN_ERR_ADMIN_SIGN_IN_REFUSED/);
    assert.match(body, /mallory@example\.com \(groups: sales\)/);
    await screenshot(page, 'idp-refused');
    assert.match(new URL(page.url()).pathname, /^\/\.postern\/admin\/callback$/);
    assert.equal(new URL(page.url()).hash, '');

    // Back at the console there is still no token: the sign-in page shows.
    await page.getByRole('link', { name: 'Back to the console sign-in' }).click();
    await page.getByRole('link', { name: 'Sign in with corp' }).waitFor({ timeout: STEP_MS });
    assert.equal(await page.evaluate("sessionStorage.getItem('postern.adminToken')"), null);
  } finally {
    await page.context().close();
  }
});

test('the admin API refuses a console token that is forged, for another audience, or expired', async () => {
  const call = (token: string) =>
    fetch(`${edge.adminUrl}/api/v1/connector-groups`, {
      headers: { authorization: `Bearer ${token}` },
    });
  const expired = await edge.tokenAuthority.issue(
    { subject: 'alice', email: 'alice@example.com', groups: [], idp: 'corp' },
    { audience: 'postern:admin', ttlMs: -120_000, claims: { role: 'admin' } },
  );
  const late = await call(expired.token);
  assert.equal(late.status, 401);
  assert.match(await late.text(), /console sign-in has expired/);
  const cliToken = await edge.tokenAuthority.issue(
    { subject: 'alice', email: 'alice@example.com', groups: ['postern-admins'], idp: 'corp' },
    { audience: 'postern:cli', ttlMs: 60_000, claims: { role: 'admin' } },
  );
  const wrongAudience = await call(cliToken.token);
  assert.equal(wrongAudience.status, 401);
  assert.match(await wrongAudience.text(), /console sign-in is not valid on this edge/);

  const good = await edge.tokenAuthority.issue(
    { subject: 'alice', email: 'alice@example.com', groups: [], idp: 'corp' },
    { audience: 'postern:admin', ttlMs: 60_000, claims: { role: 'viewer' } },
  );
  assert.equal((await call(good.token)).status, 200);
  const [h, p] = good.token.split('.');
  const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as object;
  const raised = Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString('base64url');
  assert.equal((await call(`${h}.${raised}.${good.token.split('.')[2]}`)).status, 401);

  const options = await fetch(`${edge.adminUrl}/.postern/admin/sign-in`);
  assert.deepEqual(await options.json(), { identity_provider: 'corp' });
});

test('console sign-in starts are limited per address: past 30 a minute the edge answers 429', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 31 && !statuses.includes(429); i++) {
    const res = await fetch(`${edge.adminUrl}/.postern/admin/login`, { redirect: 'manual' });
    await res.arrayBuffer();
    statuses.push(res.status);
    if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) > 0);
  }
  // The browser tests above started a few logins from the same address within the minute.
  assert.equal(statuses[0], 302);
  assert.equal(statuses.at(-1), 429, statuses.join(' '));
});
