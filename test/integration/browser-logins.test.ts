// Browser logins in real Chromium against the test OIDC provider and an in-process edge: logins
// in two tabs at once, two login virtual servers on one host name (other ports), and the bounds
// on what a request without a session makes the edge store. Every server denies every user, so
// a good session shows the 403 page (no application or connector is needed): a missing one
// shows the provider's login form instead.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort, startTestEdge, tempDir, type TestEdge } from '../harness/harness.js';
import { gotoSteadily, launchChromium, logInAtProvider } from '../support/browser.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { createSelfSignedCert } from '../support/tls-cert.js';

const STEP_TIMEOUT_MS = 20_000;

/** A GET that ignores the self-signed certificate and follows nothing. */
function rawGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

/** Waits until `page` shows the 403 page of a logged-in (and denied) user at `url`. */
async function deniedAt(page: Page, url: string): Promise<void> {
  await page.waitForURL(url, { timeout: STEP_TIMEOUT_MS });
  const text = (await page.textContent('body')) ?? '';
  assert.match(text, /alice@example\.com/, `a session for alice at ${url}: ${text.slice(0, 200)}`);
  assert.match(text, /nobody/);
}

describe('browser logins in Chromium', { timeout: 120_000 }, () => {
  let dir = '';
  let issuer: OidcIssuer | undefined;
  let edge: TestEdge | undefined;
  let browser: Browser | undefined;
  let wiki = '';
  let wikiAlt = '';

  before(async () => {
    dir = await tempDir('postern-bsess-');
    const [port, altPort] = [await freePort(), await freePort()];
    wiki = `https://localhost:${port}`;
    wikiAlt = `https://localhost:${altPort}`;
    issuer = await startOidcIssuer({
      redirectUris: [`${wiki}/.postern/auth/callback`, `${wikiAlt}/.postern/auth/callback`],
      accounts: { alice: { email: 'alice@example.com', name: 'Alice', groups: ['eng'] } },
    });
    const cert = await createSelfSignedCert();
    const configDir = join(dir, 'config');
    await mkdir(join(configDir, 'secrets'), { recursive: true });
    await writeFile(join(configDir, 'secrets', 'client-secret'), issuer.clientSecret);
    const server = (name: string, listenPort: number) => ({
      name,
      protocol: 'https',
      listen: `127.0.0.1:${listenPort}`,
      pool: 'app',
      tls: { certificates: ['cert'] },
      access: { identity_provider: 'corp' },
    });
    await writeFile(
      join(configDir, 'access.json'),
      JSON.stringify({
        version: 1,
        connector_groups: [{ name: 'bsess-site' }],
        identity_providers: [
          {
            name: 'corp',
            issuer: issuer.issuer,
            client_id: issuer.clientId,
            client_secret: { valueFrom: { fileRef: { name: 'secrets/client-secret' } } },
            scopes: ['openid', 'email', 'profile', 'groups'],
          },
        ],
        certificates: [{ name: 'cert', cert: cert.cert, key: cert.key }],
        pools: [{ name: 'app', via: 'bsess-site', nodes: [{ address: '127.0.0.1:9' }] }],
        virtual_servers: [server('wiki', port), server('wiki-alt', altPort)],
        access_policies: [{ name: 'nobody', action: 'deny', conditions: {} }],
      }),
    );
    edge = await startTestEdge({ dataDir: join(dir, 'edge'), configDir });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await edge?.stop();
    await issuer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const newContext = (): Promise<BrowserContext> =>
    (browser as Browser).newContext({ ignoreHTTPSErrors: true });

  it('logins started in two tabs at once both finish, and leave no login cookie behind', async () => {
    const context = await newContext();
    try {
      const first = await context.newPage();
      const second = await context.newPage();
      await gotoSteadily(first, `${wiki}/first`);
      await gotoSteadily(second, `${wiki}/second`);
      assert.ok(first.url().startsWith(issuer!.issuer), `at the provider: ${first.url()}`);
      assert.ok(second.url().startsWith(issuer!.issuer), `at the provider: ${second.url()}`);
      await logInAtProvider(first, 'alice', STEP_TIMEOUT_MS);
      await deniedAt(first, `${wiki}/first`);
      await logInAtProvider(second, 'alice', STEP_TIMEOUT_MS);
      await deniedAt(second, `${wiki}/second`);
      const names = (await context.cookies(wiki)).map((c) => c.name);
      assert.deepEqual(
        names.filter((n) => n.startsWith('__Host-postern-login')),
        [],
        `cookies: ${names.join(', ')}`,
      );
    } finally {
      await context.close();
    }
  });

  it('two login servers on one host name keep their own sessions', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      await gotoSteadily(page, `${wiki}/one`);
      await logInAtProvider(page, 'alice', STEP_TIMEOUT_MS);
      await deniedAt(page, `${wiki}/one`);
      await gotoSteadily(page, `${wikiAlt}/two`);
      // The provider may remember alice and come straight back.
      if (page.url().startsWith(issuer!.issuer)) {
        await logInAtProvider(page, 'alice', STEP_TIMEOUT_MS);
      }
      await deniedAt(page, `${wikiAlt}/two`);
      // Back on the first server: still logged in, no trip to the provider.
      await gotoSteadily(page, `${wiki}/three`);
      await deniedAt(page, `${wiki}/three`);
      const names = (await context.cookies(wiki)).map((c) => c.name).sort();
      assert.deepEqual(
        names.filter((n) => n.startsWith('__Host-postern-session')),
        ['__Host-postern-session-wiki', '__Host-postern-session-wiki-alt'],
      );
    } finally {
      await context.close();
    }
  });

  it('a login from a too long path returns to /', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      await gotoSteadily(page, `${wiki}/${'a'.repeat(3000)}`);
      await logInAtProvider(page, 'alice', STEP_TIMEOUT_MS);
      await deniedAt(page, `${wiki}/`);
    } finally {
      await context.close();
    }
  });

  // Last: it uses up this address's logins for a minute.
  it('requests without a session start at most 30 logins a minute per address, then get 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push(await rawGet(`${wikiAlt}/flood/${i}`));
    assert.ok(statuses.includes(429), `statuses: ${statuses.join(' ')}`);
    const started = statuses.filter((s) => s === 302).length;
    assert.ok(started <= 30, `${started} logins started`);
    assert.deepEqual([...new Set(statuses)].sort(), [302, 429]);
  });
});
