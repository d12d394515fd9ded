// `postern login --device` end to end: an OIDC provider (oidc-provider) on 127.0.0.1, two
// in-process edges sharing one PostgreSQL store (an HA set), the real CLI in a child process,
// and headless Chromium approving (or denying) the code on the verification page.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gotoSteadily, logInAtProvider, submitSteadily } from '../support/browser.js';
import { CLI_AUDIENCE } from '../../src/control/index.js';
import { LoginLab } from './support/login-lab.js';
import { outputOf, startDeviceLogin, storedCredential } from './support/postern-login.js';

const STEP_TIMEOUT_MS = 20_000;
/** Edge B's device logins expire this fast, for the expiry test. */
const SHORT_TTL_MS = 4000;

describe('postern login --device (two edges, one PostgreSQL store)', { timeout: 180_000 }, () => {
  let lab: LoginLab | undefined;
  let dir = '';
  let baseA = '';
  let baseB = '';

  before(async () => {
    lab = await LoginLab.start({
      name: 'device',
      providers: {
        corp: { alice: { email: 'alice@example.com', name: 'Alice', groups: ['eng'] } },
      },
      edges: { a: {}, b: { deviceLoginTtlMs: SHORT_TTL_MS } },
    });
    dir = lab.dir;
    [baseA, baseB] = [lab.base('a'), lab.base('b')];
  });

  after(() => lab?.close());

  /** Starts `postern login --device` against `edge`; resolves with the process and its prompt. */
  const startCli = async (edge: string, configDir: string) => {
    const { cli, link: complete } = await startDeviceLogin(edge, { configDir, ca: lab!.caFile });
    const code = complete.searchParams.get('user_code') ?? '';
    assert.match(code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.ok(
      cli.lines.some((l) => l.text.includes(code) && !l.text.includes('user_code=')),
      'the code is printed on its own',
    );
    return { cli, complete, code };
  };

  /**
   * Opens the verification link on `base`, logs in as alice and presses `button`. On the way it
   * checks that the page is neither cached nor leaks its URL, that the form's fields go in the
   * POST body and never in a URL, and that the same fields in the query string are refused.
   */
  const decideInBrowser = async (
    link: URL,
    base: string,
    code: string,
    button: 'approve' | 'deny',
  ) => {
    const context = await lab!.newContext();
    try {
      const page = await context.newPage();
      const shown = page.waitForResponse(
        (r) => r.url().includes('/.postern/cli/device?user_code=') && r.status() === 200,
        { timeout: STEP_TIMEOUT_MS * 2 },
      );
      shown.catch(() => undefined); // awaited below; a failure before that must not go unhandled
      await gotoSteadily(page, `${base}${link.pathname}${link.search}`);
      await logInAtProvider(page, 'alice', STEP_TIMEOUT_MS);
      // The confirm page first (on a loaded machine the redirects after the login take a while);
      // when it does not come, the failure says what the browser shows instead.
      const response = await shown.catch(async (err: unknown) => {
        const body = ((await page.textContent('body').catch(() => '')) ?? '').slice(0, 300);
        throw new Error(`no confirm page; the browser is at ${page.url()} showing: ${body}`, {
          cause: err,
        });
      });
      await page.waitForSelector('#user-code', { timeout: STEP_TIMEOUT_MS });
      const headers = response.headers();
      assert.equal(headers['referrer-policy'], 'no-referrer');
      assert.equal(headers['cache-control'], 'no-store');
      assert.equal(await page.textContent('#user-code'), code);
      assert.match((await page.textContent('body')) ?? '', /127\.0\.0\.1/, 'the CLI address');
      const form = `form[action="/.postern/cli/device/${button}"]`;
      const csrf = await page.getAttribute(`${form} input[name="csrf"]`, 'value');
      const userCode = await page.getAttribute(`${form} input[name="user_code"]`, 'value');
      assert.ok(csrf && userCode, 'the fields are hidden inputs of the form');
      const inQuery = await context.request.post(
        `${base}/.postern/cli/device/${button}?${new URLSearchParams({ user_code: userCode, csrf }).toString()}`,
      );
      assert.equal(inQuery.status(), 400, 'the fields in the query string are refused');
      // Playwright's requests use HTTP/1.1 (the browser may use HTTP/2): both hand over bodies.
      const action = `${base}/.postern/cli/device/${button}`;
      const forged = await context.request.post(action, {
        form: { user_code: userCode, csrf: 'x' },
      });
      assert.equal(forged.status(), 403, 'the fields were read from the body: the token is wrong');
      const long = 'x'.repeat(100_000);
      const tooLong = await context.request.post(action, { form: { user_code: userCode, long } });
      assert.equal(tooLong.status(), 413);
      const sent = page.waitForRequest((r) => r.method() === 'POST', {
        timeout: STEP_TIMEOUT_MS,
      });
      sent.catch(() => undefined); // awaited below, as `shown`
      await submitSteadily(page, `#${button}`, STEP_TIMEOUT_MS);
      const post = await sent;
      assert.equal(new URL(post.url()).search, '', 'nothing in the URL');
      assert.equal(post.headers()['content-type'], 'application/x-www-form-urlencoded');
      assert.deepEqual(Object.fromEntries(new URLSearchParams(post.postData() ?? '')), {
        user_code: userCode,
        csrf,
      });
      await page.waitForSelector('h1', { timeout: STEP_TIMEOUT_MS });
      return (await page.textContent('h1')) ?? '';
    } finally {
      await context.close();
    }
  };

  it('polls edge A while the user approves on edge B in a browser, then stores a token edge A accepts', async () => {
    const configDir = join(dir, 'cli-approve');
    const { cli, complete, code } = await startCli(baseA, configDir);
    try {
      assert.equal(complete.origin, baseA);
      const heading = await decideInBrowser(complete, baseB, code, 'approve');
      assert.equal(heading, 'Device approved');
      const exit = await cli.exited;
      assert.equal(exit.code, 0, outputOf(cli));
      assert.equal((await stat(join(configDir, 'credentials.json'))).mode & 0o777, 0o600);
      const credential = await storedCredential(configDir, baseA);
      assert.equal(credential.user, 'alice@example.com');
      assert.ok(
        credential.caPem?.includes('BEGIN CERTIFICATE'),
        'the CA is stored for postern tcp',
      );
      const verified = await lab!.edge('a').tokenAuthority.verify(credential.token, {
        audience: CLI_AUDIENCE,
      });
      assert.equal(verified.identity.subject, 'alice');
      assert.deepEqual(verified.identity.groups, ['eng']);
      assert.equal(verified.expiresAt, credential.expiresAt);
      const hours = (verified.expiresAt - Date.now()) / 3_600_000;
      assert.ok(hours > 7.9 && hours <= 8, `valid for 8 h, got ${hours}`);
      const all = outputOf(cli);
      assert.ok(!all.includes(credential.token), 'the token is never printed');
    } finally {
      if (!cli.hasExited) await cli.stop('SIGTERM', 5_000);
    }
  });

  it('reports a denial in the browser as POSTERN_ERR_DEVICE_LOGIN_DENIED', async () => {
    const { cli, complete, code } = await startCli(baseA, join(dir, 'cli-deny'));
    try {
      assert.equal(await decideInBrowser(complete, baseA, code, 'deny'), 'Device denied');
      const exit = await cli.exited;
      assert.notEqual(exit.code, 0);
      const all = outputOf(cli);
      assert.match(all, /POSTERN_ERR_DEVICE_LOGIN_DENIED/);
      await assert.rejects(stat(join(dir, 'cli-deny', 'credentials.json')), { code: 'ENOENT' });
    } finally {
      if (!cli.hasExited) await cli.stop('SIGTERM', 5_000);
    }
  });

  // After the approvals: it locks 127.0.0.1, where every browser of this file comes from, out of
  // entering codes for 15 minutes.
  it('counts wrong codes entered on edge A on edge B too: 3 on A and 2 on B lock the address', async () => {
    const context = await lab!.newContext();
    try {
      const started = await context.request.post(`${baseB}/.postern/cli/device`);
      assert.equal(started.status(), 200);
      const code = String(((await started.json()) as { user_code: string }).user_code);
      const wrong = code === 'BBBB-BBBB' ? 'CCCC-CCCC' : 'BBBB-BBBB';
      const page = await context.newPage();
      const entered = async (base: string, userCode: string) =>
        (await context.request.get(`${base}/.postern/cli/device?user_code=${userCode}`)).status();
      for (const base of [baseA, baseB]) {
        // One approval session per edge: the lock that follows is the address's, not a session's.
        await context.clearCookies();
        await gotoSteadily(page, `${base}/.postern/cli/device`);
        await logInAtProvider(page, 'alice', STEP_TIMEOUT_MS);
        await page.waitForSelector('input[name="user_code"]', { timeout: STEP_TIMEOUT_MS });
        const tries = base === baseA ? 3 : 2;
        for (let i = 0; i < tries; i++) assert.equal(await entered(base, wrong), 400);
      }
      assert.equal(await entered(baseB, code), 429, 'locked on B after 2 wrong codes there');
      assert.equal(await entered(baseA, code), 429, 'and on A');
    } finally {
      await context.close();
    }
  });

  it('gives up with POSTERN_ERR_DEVICE_LOGIN_EXPIRED when nobody approves in time', async () => {
    const started = Date.now();
    const { cli } = await startCli(baseB, join(dir, 'cli-expire'));
    try {
      const exit = await cli.exited;
      assert.notEqual(exit.code, 0);
      assert.match(outputOf(cli), /POSTERN_ERR_DEVICE_LOGIN_EXPIRED/);
      assert.ok(Date.now() - started < 30_000, 'within the expiry and one poll');
    } finally {
      if (!cli.hasExited) await cli.stop('SIGTERM', 5_000);
    }
  });
});
