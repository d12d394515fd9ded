// Where `postern login` keeps its token, end to end: the real CLI in a child process, an edge
// whose login is at a test OIDC provider, and headless Chromium approving a device code. The
// CLI's directory is POSTERN_CLI_CONFIG_DIR; POSTERN_CONFIG_DIR is the edge's --config-dir, so a
// login run where it is set (an edge's environment) must leave that directory alone.
import assert from 'node:assert/strict';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gotoSteadily, logInAtProvider } from '../support/browser.js';
import { LoginLab } from './support/login-lab.js';
import { outputOf, storedCredential } from './support/postern-login.js';
import { CLI } from './support/site-lab.js';
import { SpawnedProcess } from './support/spawned-process.js';

const STEP_TIMEOUT_MS = 20_000;

describe('postern login keeps its credentials apart from the edge', { timeout: 120_000 }, () => {
  let lab: LoginLab | undefined;

  before(async () => {
    lab = await LoginLab.start({
      name: 'clidir',
      providers: { corp: { alice: { email: 'alice@example.com', name: 'Alice', groups: [] } } },
      edges: { a: {} },
    });
  });

  after(() => lab?.close());

  it('stores credentials.json under POSTERN_CLI_CONFIG_DIR, nothing under POSTERN_CONFIG_DIR', async () => {
    const base = lab!.base('a');
    const cliDir = join(lab!.dir, 'cli-config');
    const edgeDir = join(lab!.dir, 'edge-config');
    // Where the CLI would fall back to; inside the lab, so a failure leaves no file in $HOME.
    const xdgDir = join(lab!.dir, 'xdg-config');
    await mkdir(edgeDir);
    const cli = new SpawnedProcess(
      'device-login',
      process.execPath,
      [CLI, 'login', '--edge', base, '--device', '--ca', lab!.caFile],
      { POSTERN_CLI_CONFIG_DIR: cliDir, POSTERN_CONFIG_DIR: edgeDir, XDG_CONFIG_HOME: xdgDir },
    );
    try {
      const line = await cli.waitFor((l) => l.text.includes('/.postern/cli/device?user_code='), {
        timeoutMs: STEP_TIMEOUT_MS,
        what: 'the verification link',
      });
      const context = await lab!.newContext();
      try {
        const page = await context.newPage();
        await gotoSteadily(page, line.text.trim());
        await logInAtProvider(page, 'alice', STEP_TIMEOUT_MS);
        await page.waitForSelector('#approve', { timeout: STEP_TIMEOUT_MS });
        await page.click('#approve');
        await page.waitForSelector('h1', { timeout: STEP_TIMEOUT_MS });
        assert.equal(await page.textContent('h1'), 'Device approved');
      } finally {
        await context.close();
      }
      const exit = await cli.exited;
      assert.equal(exit.code, 0, outputOf(cli));
      assert.equal((await storedCredential(cliDir, base)).user, 'alice@example.com');
      assert.deepEqual(
        await readdir(edgeDir),
        [],
        "the edge's configuration directory is untouched",
      );
      await assert.rejects(stat(xdgDir), { code: 'ENOENT' });
    } finally {
      if (!cli.hasExited) await cli.stop('SIGTERM', 5_000);
    }
  });
});
