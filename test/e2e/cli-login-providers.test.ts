// `postern login` with two identity providers and two edges, end to end: two OIDC providers
// (oidc-provider) on 127.0.0.1, two in-process edges sharing one PostgreSQL store and signing key
// (an HA set; edge B runs with device login switched off), the real CLI in child processes, and
// headless Chromium picking the provider, logging in and pressing Allow or Approve.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { CLI_AUDIENCE } from '../../src/control/index.js';
import { freePort } from '../harness/harness.js';
import { gotoSteadily, logInAtProvider } from '../support/browser.js';
import { LoginLab } from './support/login-lab.js';
import {
  outputOf,
  spawnLogin,
  startBrowserLogin,
  startDeviceLogin,
  storedCredential,
} from './support/postern-login.js';
import { CLI } from './support/site-lab.js';
import { SpawnedProcess } from './support/spawned-process.js';

const STEP_TIMEOUT_MS = 30_000;

describe('postern login with two identity providers on two edges', { timeout: 300_000 }, () => {
  let lab: LoginLab | undefined;
  let dir = '';
  let baseA = '';
  let baseB = '';
  let caFile = '';

  before(async () => {
    lab = await LoginLab.start({
      name: 'clilogin',
      providers: {
        corp: { alice: { email: 'alice@example.com', name: 'Alice', groups: ['eng'] } },
        partner: { bob: { email: 'bob@partner.example', name: 'Bob', groups: ['ext'] } },
      },
      edges: { a: { deviceLogin: true }, b: { deviceLogin: false } },
    });
    ({ dir, caFile } = lab);
    [baseA, baseB] = [lab.base('a'), lab.base('b')];
  });

  after(() => lab?.close());

  /** Runs `postern login --no-browser` against `edge`; resolves once it printed the login URL. */
  const startCliLogin = (edge: string, configDir: string) =>
    startBrowserLogin(edge, { configDir, ca: caFile });

  /** Opens `url` in `page`, picks `idp` on the edge's choice page and logs in there as `user`. */
  const pickAndLogIn = async (page: Page, url: string, idp: 'corp' | 'partner', user?: string) => {
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
    return { code: exit.code, output: outputOf(cli) };
  };

  it('two postern login runs confirmed in one browser at once each get their own token', async () => {
    const first = await startCliLogin(baseA, join(dir, 'cli-first'));
    const second = await startCliLogin(baseA, join(dir, 'cli-second'));
    const context = await lab!.newContext();
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
    const context = await lab!.newContext();
    try {
      const page = await context.newPage();
      await pickAndLogIn(page, url, 'partner', 'bob');
      await page.waitForSelector('#allow', { timeout: STEP_TIMEOUT_MS });
      assert.match((await page.textContent('body')) ?? '', /bob@partner\.example/);
      assert.match(await allow(page), /Logged in/);
      const exit = await exitOf(cli);
      assert.equal(exit.code, 0, exit.output);
      const credential = await storedCredential(configDir, baseB);
      const verified = await lab!.edge('a').tokenAuthority.verify(credential.token, {
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
    const context = await lab!.newContext();
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
    const context = await lab!.newContext();
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
    const cli = spawnLogin(baseB, ['--device'], {
      name: 'clilogin-device-off',
      configDir: join(dir, 'cli-device-off'),
      ca: caFile,
    });
    const exit = await exitOf(cli);
    assert.equal(exit.code, 1, exit.output);
    assert.match(exit.output, /POSTERN_ERR_DEVICE_LOGIN_OFF/);
    assert.match(exit.output, /--device-login off/);
  });

  it('a device login on edge A lets the approving user pick the provider first', async () => {
    const configDir = join(dir, 'cli-device');
    const { cli, link } = await startDeviceLogin(baseA, { configDir, ca: caFile });
    const context = await lab!.newContext();
    try {
      const page = await context.newPage();
      await pickAndLogIn(page, link.href, 'partner', 'bob');
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
