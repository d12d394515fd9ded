// `postern login` with two identity providers and two edges, end to end: two OIDC providers
// (oidc-provider) on 127.0.0.1, two in-process edges sharing one PostgreSQL store and signing key
// (an HA set; edge B runs with device login switched off), the real CLI in child processes, and
// headless Chromium picking the provider, logging in and pressing Allow or Approve.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CLI_AUDIENCE, UserTokenAuthority } from '../../src/control/index.js';
import { openPostgresStore } from '../../src/store/index.js';
import { freePort, startTestEdge, tempDir, type TestEdge } from '../harness/harness.js';
import { gotoSteadily, launchChromium, logInAtProvider } from '../support/browser.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';
import { createSelfSignedCert } from '../support/tls-cert.js';
import { SpawnedProcess } from './support/spawned-process.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const STEP_TIMEOUT_MS = 30_000;

interface Issuers {
  readonly corp: OidcIssuer;
  readonly partner: OidcIssuer;
}

/** The config document of one edge: two identity providers, one https virtual server on `port`. */
function accessDocument(issuers: Issuers, port: number, cert: { cert: string; key: string }) {
  const provider = (name: keyof Issuers) => ({
    name,
    issuer: issuers[name].issuer,
    client_id: issuers[name].clientId,
    client_secret: { valueFrom: { fileRef: { name: `secrets/${name}` } } },
    scopes: ['openid', 'email', 'profile', 'groups'],
  });
  return {
    version: 1,
    connector_groups: [{ name: 'clilogin-site' }],
    identity_providers: [provider('corp'), provider('partner')],
    certificates: [{ name: 'web-cert', cert: cert.cert, key: cert.key }],
    pools: [{ name: 'web', via: 'clilogin-site', nodes: [{ address: '127.0.0.1:9' }] }],
    virtual_servers: [
      {
        name: 'web',
        protocol: 'https',
        listen: `127.0.0.1:${port}`,
        pool: 'web',
        tls: { certificates: ['web-cert'] },
        access: { identity_provider: 'corp' },
      },
    ],
  };
}

/** The stored credential of `edge` in the CLI config dir `configDir`. */
async function storedCredential(configDir: string, edge: string) {
  const stored = JSON.parse(await readFile(join(configDir, 'credentials.json'), 'utf8')) as {
    edges: Record<string, { token: string; user?: string }>;
  };
  const credential = stored.edges[new URL(edge).origin];
  assert.ok(credential, `a credential for ${edge}`);
  return credential;
}

describe('postern login with two identity providers on two edges', { timeout: 300_000 }, () => {
  let dir = '';
  let pg: PostgresServer | undefined;
  let issuers: Issuers | undefined;
  let edgeA: TestEdge | undefined;
  let edgeB: TestEdge | undefined;
  let browser: Browser | undefined;
  let baseA = '';
  let baseB = '';
  let caFile = '';

  before(async () => {
    dir = await tempDir('postern-clilogin-');
    pg = await startPostgres();
    const url = await pg.createDatabase();
    const [portA, portB] = [await freePort(), await freePort()];
    baseA = `https://localhost:${portA}`;
    baseB = `https://localhost:${portB}`;
    const redirectUris = [`${baseA}/.postern/auth/callback`, `${baseB}/.postern/auth/callback`];
    issuers = {
      corp: await startOidcIssuer({
        redirectUris,
        accounts: { alice: { email: 'alice@example.com', name: 'Alice', groups: ['eng'] } },
      }),
      partner: await startOidcIssuer({
        redirectUris,
        accounts: { bob: { email: 'bob@partner.example', name: 'Bob', groups: ['ext'] } },
      }),
    };
    const cert = await createSelfSignedCert();
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, cert.cert);
    const signingKey = join(dir, 'token-signing-key.pem');
    await writeFile(signingKey, UserTokenAuthority.generatePem(), { mode: 0o600 });
    const edge = async (name: string, port: number, deviceLogin: boolean) => {
      const configDir = join(dir, `config-${name}`);
      await mkdir(join(configDir, 'secrets'), { recursive: true });
      await writeFile(join(configDir, 'secrets', 'corp'), issuers!.corp.clientSecret);
      await writeFile(join(configDir, 'secrets', 'partner'), issuers!.partner.clientSecret);
      await writeFile(
        join(configDir, 'access.json'),
        JSON.stringify(accessDocument(issuers!, port, cert)),
      );
      return startTestEdge({
        dataDir: join(dir, `edge-${name}`),
        configDir,
        serverId: `clilogin-${name}`,
        openStore: () => openPostgresStore({ connectionString: url }),
        tokenSigningKey: signingKey,
        deviceLogin,
      });
    };
    edgeA = await edge('a', portA, true);
    edgeB = await edge('b', portB, false);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await edgeB?.stop();
    await edgeA?.stop();
    await issuers?.corp.close();
    await issuers?.partner.close();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs `postern login --no-browser` against `edge`; resolves once it printed the login URL. */
  const startCliLogin = async (edge: string, configDir: string) => {
    const cli = new SpawnedProcess(
      'clilogin',
      process.execPath,
      [CLI, 'login', '--edge', edge, '--no-browser', '--timeout', '120', '--ca', caFile],
      { POSTERN_CONFIG_DIR: configDir },
    );
    const line = await cli.waitFor((l) => l.text.includes('/.postern/cli/login?'), {
      timeoutMs: STEP_TIMEOUT_MS,
      what: 'the login URL',
    });
    return { cli, url: line.text.trim() };
  };

  /** Opens `url` in `page`, picks `idp` on the edge's choice page and logs in there as `user`. */
  const pickAndLogIn = async (page: Page, url: string, idp: keyof Issuers, user?: string) => {
    await gotoSteadily(page, url);
    await page.waitForSelector(`#idp-${idp}`, { timeout: STEP_TIMEOUT_MS });
    assert.equal(await page.textContent('h1'), 'Choose how to sign in');
    await page.click(`#idp-${idp}`);
    if (user !== undefined) await logInAtProvider(page, user, STEP_TIMEOUT_MS);
  };

  /** Presses Allow on `page` and waits for the CLI's callback page. */
  const allow = async (page: Page) => {
    await page.click('#allow');
    // The callback, or the edge's page refusing the form (its URL is the form's action).
    await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback|\/\.postern\/cli\/login$/, {
      timeout: STEP_TIMEOUT_MS,
    });
    await page.waitForSelector('h1', { timeout: STEP_TIMEOUT_MS });
    const heading = (await page.textContent('h1')) ?? '';
    assert.match(page.url(), /^http:\/\/127\.0\.0\.1:\d+\/callback/, `Allow showed: ${heading}`);
    return heading;
  };

  const exitOf = async (cli: SpawnedProcess) => {
    const exit = await cli.exited;
    return { code: exit.code, output: cli.lines.map((l) => l.text).join('\n') };
  };

  it('two postern login runs confirmed in one browser at once each get their own token', async () => {
    const first = await startCliLogin(baseA, join(dir, 'cli-first'));
    const second = await startCliLogin(baseA, join(dir, 'cli-second'));
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    try {
      const [tabOne, tabTwo] = [await context.newPage(), await context.newPage()];
      await pickAndLogIn(tabOne, first.url, 'corp', 'alice');
      await tabOne.waitForSelector('#allow', { timeout: STEP_TIMEOUT_MS });
      // The provider session of the first tab logs the second in without a form.
      await pickAndLogIn(tabTwo, second.url, 'corp');
      await tabTwo.waitForSelector('#allow', { timeout: STEP_TIMEOUT_MS });
      // The first run's page is answered after the second one was shown.
      assert.match(await allow(tabOne), /Logged in/);
      assert.match(await allow(tabTwo), /Logged in/);
      for (const [run, name] of [
        [first, 'cli-first'],
        [second, 'cli-second'],
      ] as const) {
        const exit = await exitOf(run.cli);
        assert.equal(exit.code, 0, exit.output);
        const credential = await storedCredential(join(dir, name), baseA);
        assert.equal(credential.user, 'alice@example.com');
      }
    } finally {
      await context.close();
      for (const run of [first, second])
        if (!run.cli.hasExited) await run.cli.stop('SIGTERM', 5000);
    }
  });

  it("the user picks the second provider: the token is that provider's user's", async () => {
    const configDir = join(dir, 'cli-partner');
    const { cli, url } = await startCliLogin(baseB, configDir);
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await pickAndLogIn(page, url, 'partner', 'bob');
      await page.waitForSelector('#allow', { timeout: STEP_TIMEOUT_MS });
      assert.match((await page.textContent('body')) ?? '', /bob@partner\.example/);
      assert.match(await allow(page), /Logged in/);
      const exit = await exitOf(cli);
      assert.equal(exit.code, 0, exit.output);
      const credential = await storedCredential(configDir, baseB);
      const verified = await edgeA!.tokenAuthority.verify(credential.token, {
        audience: CLI_AUDIENCE,
      });
      assert.equal(verified.identity.subject, 'bob');
      assert.equal(verified.identity.idp, 'partner');
    } finally {
      await context.close();
      if (!cli.hasExited) await cli.stop('SIGTERM', 5000);
    }
  });

  it('a code exchanged on edge B is refused on edge A (one-time use across the HA set)', async () => {
    const codes: string[] = [];
    const callback = http.createServer((req, res) => {
      const code = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('code');
      if (code) codes.push(code);
      res.end('got it');
    });
    await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    try {
      const verifier = randomBytes(32).toString('base64url');
      const pkce = {
        verifier,
        challenge: createHash('sha256').update(verifier).digest('base64url'),
      };
      const link = new URL(`${baseA}/.postern/cli/login`);
      link.searchParams.set(
        'callback',
        `http://127.0.0.1:${(callback.address() as AddressInfo).port}/cb`,
      );
      link.searchParams.set('state', 'clilogin-ha-state-0123');
      link.searchParams.set('code_challenge', pkce.challenge);
      link.searchParams.set('code_challenge_method', 'S256');
      link.searchParams.set('idp', 'corp');
      const page = await context.newPage();
      await gotoSteadily(page, link.href);
      await logInAtProvider(page, 'alice', STEP_TIMEOUT_MS);
      await page.waitForSelector('#allow', { timeout: STEP_TIMEOUT_MS });
      await page.click('#allow');
      await page.waitForURL(/\/cb\?/, { timeout: STEP_TIMEOUT_MS });
      assert.equal(codes.length, 1, 'the callback got one code');
      const exchange = (base: string) =>
        context.request.post(`${base}/.postern/cli/login`, {
          form: { grant_type: 'authorization_code', code: codes[0]!, code_verifier: pkce.verifier },
        });
      const onB = await exchange(baseB);
      assert.equal(onB.status(), 200, await onB.text());
      const onA = await exchange(baseA);
      assert.equal(onA.status(), 400);
      const refused = (await onA.json()) as { error: string; error_description: string };
      assert.equal(refused.error, 'invalid_grant');
      assert.match(refused.error_description, /already used/);
    } finally {
      await context.close();
      await new Promise<void>((resolve) => callback.close(() => resolve()));
    }
  });

  it('edge B has device login switched off: 404 on its device paths and a clear CLI error', async () => {
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    try {
      const start = await context.request.post(`${baseB}/.postern/cli/device`);
      assert.equal(start.status(), 404);
      // Machine clients get JSON, as from the other CLI endpoints; browsers the HTML page.
      assert.match(start.headers()['content-type'] ?? '', /^application\/json/);
      assert.equal(((await start.json()) as { error?: string }).error, 'device_login_off');
      const page = await context.request.get(`${baseB}/.postern/cli/device?user_code=BCDF-GHJK`);
      assert.equal(page.status(), 404);
      assert.match(await page.text(), /does not offer device logins/);
      const onA = await context.request.post(`${baseA}/.postern/cli/device`);
      assert.equal(onA.status(), 200, 'edge A (default on) still offers them');
    } finally {
      await context.close();
    }
    const cli = new SpawnedProcess(
      'clilogin-device-off',
      process.execPath,
      [CLI, 'login', '--edge', baseB, '--device', '--ca', caFile],
      { POSTERN_CONFIG_DIR: join(dir, 'cli-device-off') },
    );
    const exit = await exitOf(cli);
    assert.equal(exit.code, 1, exit.output);
    assert.match(exit.output, /POSTERN_ERR_DEVICE_LOGIN_OFF/);
    assert.match(exit.output, /--device-login off/);
  });

  it('a device login on edge A lets the approving user pick the provider first', async () => {
    const configDir = join(dir, 'cli-device');
    const cli = new SpawnedProcess(
      'clilogin-device',
      process.execPath,
      [CLI, 'login', '--edge', baseA, '--device', '--ca', caFile],
      { POSTERN_CONFIG_DIR: configDir },
    );
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    try {
      const link = await cli.waitFor((l) => l.text.includes('/.postern/cli/device?user_code='), {
        timeoutMs: STEP_TIMEOUT_MS,
        what: 'the verification link',
      });
      const page = await context.newPage();
      await pickAndLogIn(page, link.text.trim(), 'partner', 'bob');
      await page.waitForSelector('#approve', { timeout: STEP_TIMEOUT_MS });
      await page.click('#approve');
      await page.waitForSelector('h1:has-text("Device approved")', { timeout: STEP_TIMEOUT_MS });
      const exit = await exitOf(cli);
      assert.equal(exit.code, 0, exit.output);
      const credential = await storedCredential(configDir, baseA);
      assert.equal(credential.user, 'bob@partner.example');
    } finally {
      await context.close();
      if (!cli.hasExited) await cli.stop('SIGTERM', 5000);
    }
  });

  it('`postern edge --device-login off` is wired: the real edge answers 404 to a device start', async () => {
    const port = await freePort();
    const edge = new SpawnedProcess(
      'clilogin-edge',
      process.execPath,
      [
        ...[CLI, 'edge', '--data-dir', join(dir, 'edge-flag'), '--device-login', 'off'],
        ...['--tunnel-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'],
        ...['--access-listen', `127.0.0.1:${port}`],
      ],
      { POSTERN_LOG_LEVEL: 'warn' },
    );
    try {
      await edge.waitFor((l) => l.text.startsWith('postern edge access proxy:'), {
        timeoutMs: STEP_TIMEOUT_MS,
        what: 'the access proxy line',
      });
      const status = await new Promise<number>((resolve, reject) => {
        const req = https.request(
          `https://127.0.0.1:${port}/.postern/cli/device`,
          { method: 'POST', rejectUnauthorized: false },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 404);
    } finally {
      assert.ok(await edge.stop('SIGTERM', 15_000), 'the edge stops on SIGTERM');
    }
  });
});
