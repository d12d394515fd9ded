/**
 * The console (built, in Debian's Chromium) shows provisioning keys and connectors as they
 * really stand, as an operator review asked: an expired or used-up key is not "enabled", revoked
 * connectors are counted apart from offline ones, and a group whose connector was deleted
 * (revoked) can be deleted from its row.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { gotoSteadily, launchChromium } from '../support/browser.js';
import { startTestEdge, type TestEdge } from '../harness/harness.js';

/** Where `npm run build` puts the console, relative to this compiled file (dist/test/e2e). */
const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

let browser: Browser;
let edge: TestEdge;

before(async () => {
  assert.ok(
    existsSync(join(CONSOLE_DIR, 'index.html')),
    `no built console at ${CONSOLE_DIR}: run \`npm run build\` (it runs build:console)`,
  );
  browser = await launchChromium();
  edge = await startTestEdge({ consoleDir: CONSOLE_DIR });
});

after(async () => {
  await browser?.close();
  await edge?.stop();
});

async function signedIn(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await gotoSteadily(page, `${edge.adminUrl}/`);
  await page.getByLabel('Admin token').fill(edge.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation').waitFor({ timeout: 5000 });
  return page;
}

async function open(page: Page, section: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: section }).click();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
}

async function seed(): Promise<void> {
  const { groups, provisioningKeys: keys, connectors } = edge.store;
  await groups.create({ name: 'site-old' });
  const key = (id: string, extra: { maxUsage?: number; expiresAt?: number } = {}) =>
    keys.create({ id, group: 'site-old', secretHash: 'h', ...extra });
  await key('k-enabled', { expiresAt: Date.now() + 3_600_000 });
  await key('k-expired', { expiresAt: Date.now() - 60_000 });
  await key('k-disabled');
  await keys.setEnabled('k-disabled', false);
  await key('k-revoked');
  await keys.revoke('k-revoked');
  await key('k-exhausted', { maxUsage: 1 });
  await keys.consume('k-exhausted', { now: Date.now() });
  for (const id of ['c-gone-1', 'c-gone-2']) {
    await connectors.create({
      id,
      group: 'site-old',
      keyId: 'k-exhausted',
      ephemeral: false,
      certSerial: id,
      certNotAfter: Date.now() + 3_600_000,
    });
    await connectors.markRevoked(id);
  }
}

test('keys show their real state, revoked connectors are not offline, and the group deletes', async () => {
  await seed();
  const page = await signedIn();
  try {
    await open(page, 'Overview');
    const row = page.getByRole('row', { name: /site-old/ });
    await row.waitFor({ timeout: 5000 });
    assert.deepEqual(
      (await row.locator('td').allTextContents()).slice(0, 4),
      ['0', '0', '0', '2'],
      'none online, draining or offline; two revoked',
    );
    const offline = page.locator('.card').filter({ hasText: 'Connectors offline' });
    assert.match((await offline.textContent()) ?? '', /0\s*not counted: 2 revoked/);

    await open(page, 'Groups & keys');
    const expected: Record<string, string> = {
      'k-enabled': 'enabled',
      'k-expired': 'expired',
      'k-disabled': 'disabled',
      'k-revoked': 'revoked',
      'k-exhausted': 'exhausted',
    };
    for (const [id, state] of Object.entries(expected)) {
      const keyRow = page.getByRole('row', { name: new RegExp(`^${id}\\b`) });
      await keyRow.locator('.status').waitFor({ timeout: 5000 });
      assert.equal(await keyRow.locator('.status').textContent(), state, id);
    }

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete group site-old' }).click();
    await page
      .getByRole('row', { name: /^site-old/ })
      .waitFor({ state: 'detached', timeout: 5000 });
    assert.equal(await page.getByRole('alert').count(), 0, 'no error shown');
    assert.equal(await edge.store.groups.get('site-old'), undefined);
    assert.deepEqual(await edge.store.connectors.list({ group: 'site-old' }), []);
  } finally {
    await page.context().close();
  }
});
