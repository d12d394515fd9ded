/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against a real
 * edge serving the built console: sign-in, groups and keys, a connector enrolled with the key
 * copied from the page, import errors. Set POSTERN_CONSOLE_SCREENSHOTS to a directory to also
 * save screenshots of the main pages there (`npm run screenshots` does, then copies them).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { gotoSteadily, launchChromium } from '../support/browser.js';
import {
  eventually,
  roundTrip,
  startEchoServer,
  startTestConnector,
  startTestEdge,
  stopAllConnectors,
  tempDir,
  type TestEdge,
} from '../harness/harness.js';

/** Where `npm run build` puts the console, relative to this compiled file (dist/test/e2e). */
const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));
const SCREENSHOTS = process.env.POSTERN_CONSOLE_SCREENSHOTS;

let browser: Browser;
let edge: TestEdge;
let configDir: string;
/** What a page did that it never should: script errors, CSP refusals, requests elsewhere. */
const misbehaviour: string[] = [];

before(async () => {
  assert.ok(
    existsSync(join(CONSOLE_DIR, 'index.html')),
    `no built console at ${CONSOLE_DIR}: run \`npm run build\` (it runs build:console)`,
  );
  browser = await launchChromium();
  configDir = await tempDir('postern-console-config-');
  await writeFile(
    join(configDir, '10-sites.yaml'),
    'version: 1\nconnector_groups:\n  - name: site-documents\n',
  );
  edge = await startTestEdge({ configDir, consoleDir: CONSOLE_DIR });
});

after(async () => {
  await browser?.close();
  await edge?.stop();
  await stopAllConnectors();
  // Checked once for every page of every test: the console stays on its own origin.
  assert.deepEqual(misbehaviour, []);
});

/** A fresh browser tab (own session storage) that may read what the page copies. */
async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: edge.adminUrl,
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => misbehaviour.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) misbehaviour.push(`CSP: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(`${edge.adminUrl}/`) && !r.url().startsWith('data:')) {
      misbehaviour.push(`request elsewhere: ${r.url()}`);
    }
  });
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, token: string): Promise<void> {
  await gotoSteadily(page, `${edge.adminUrl}/`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function open(page: Page, section: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: section }).click();
  await page.getByRole('heading', { level: 1 }).first().waitFor();
}

test('a wrong or no longer valid admin token shows why and keeps the console closed', async () => {
  const page = await newPage();
  try {
    await gotoSteadily(page, `${edge.adminUrl}/`);
    assert.equal(new URL(page.url()).pathname, '/console/');
    await screenshot(page, 'sign-in');
    await signIn(page, 'not-the-token');
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 5000 });
    const text = (await alert.textContent()) ?? '';
    assert.match(text, /Sign-in failed/);
    assert.match(text, /POSTERN_ERR_UNAUTHORIZED/);
    assert.equal(await page.getByRole('navigation').count(), 0);

    // A token the edge stops accepting mid-session sends the admin back to sign-in, saying why.
    await page.getByLabel('Admin token').fill(edge.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation').waitFor({ timeout: 5000 });
    await page.evaluate("sessionStorage.setItem('postern.adminToken', 'revoked-meanwhile')");
    await page.reload();
    await page
      .getByRole('alert')
      .filter({ hasText: 'no longer accepts' })
      .waitFor({ timeout: 5000 });
    assert.equal(await page.getByRole('navigation').count(), 0);
  } finally {
    await page.context().close();
  }
});

test('an admin creates a group and a key in the console; a connector enrolled with the copied key shows as connected', async () => {
  const app = await startEchoServer();
  const page = await newPage();
  try {
    await signIn(page, edge.adminToken);
    await page.getByRole('navigation').waitFor({ timeout: 5000 });
    await open(page, 'Groups & keys');

    await page.getByLabel('Name', { exact: true }).fill('console-east');
    await page.getByLabel('Description').fill('East data centre');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('row', { name: /console-east/ }).waitFor({ timeout: 5000 });

    await page.getByRole('combobox', { name: /^Group/ }).selectOption('console-east');
    await page.getByLabel('Maximum uses').fill('3');
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = page.locator('#new-key-value');
    await shown.waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Copy key' }).click();
    await page.getByText('Copied to the clipboard.').waitFor({ timeout: 5000 });
    const copied = String(await page.evaluate('navigator.clipboard.readText()'));
    assert.equal(copied, (await shown.textContent())?.trim());
    assert.match(copied, /^1\|/);
    await screenshot(page, 'groups-and-keys');

    // The value is shown once: after "Done" and a reload it is nowhere on the page.
    await page.getByRole('button', { name: 'Done, hide it' }).click();
    await page.reload();
    await page
      .getByRole('row', { name: /console-east/ })
      .first()
      .waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#new-key-value').count(), 0);
    assert.ok(!(await page.content()).includes(copied.split('|')[2] ?? copied));

    const connector = await startTestConnector({ provisionKey: copied });
    const id = connector.identity?.connectorId;
    assert.ok(id, 'the connector enrolled');
    await open(page, 'Connectors');
    const row = page.locator(`tr[data-connector="${id}"]`);
    await row.getByText('connected', { exact: true }).waitFor({ timeout: 15_000 });
    assert.match((await row.textContent()) ?? '', /console-east/);

    // Some traffic through the group, so the overview and pools pages have something to show.
    const port = await edge.publish('console-echo', 'console-east', app.address);
    assert.equal((await roundTrip(port, Buffer.from('hello'))).toString(), 'hello');
    await screenshot(page, 'connectors');

    await open(page, 'Overview');
    const east = page.getByRole('row', { name: /console-east/ });
    await east.waitFor({ timeout: 5000 });
    assert.deepEqual(
      (await east.locator('td').allTextContents()).slice(0, 3),
      ['1', '0', '0'],
      'one online, none draining, none offline',
    );
    await page.waitForTimeout(3500); // two metric samples, for the throughput figure
    await screenshot(page, 'overview');

    await open(page, 'Virtual servers & pools');
    await page.getByRole('row', { name: new RegExp(app.address.replace(/\./g, '\\.')) }).waitFor({
      timeout: 5000,
    });
    await screenshot(page, 'virtual-servers-and-pools');

    // Drain, undrain, drain again, then delete (revoke) the connector from its row.
    await open(page, 'Connectors');
    await page.getByRole('button', { name: `Drain connector ${id}` }).click();
    await row.getByText('draining', { exact: true }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: `Undrain connector ${id}` }).click();
    await row.getByText('connected', { exact: true }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: `Drain connector ${id}` }).click();
    await row.getByText('draining', { exact: true }).waitFor({ timeout: 10_000 });
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: `Delete connector ${id}` }).click();
    await row.getByText('revoked', { exact: true }).waitFor({ timeout: 10_000 });
  } finally {
    await page.context().close();
    await app.close();
  }
});

test('the import page shows why a broken document was refused, with file, line and reason', async () => {
  const page = await newPage();
  try {
    await signIn(page, edge.adminToken);
    await page.getByRole('navigation').waitFor({ timeout: 5000 });
    await open(page, 'Configuration import');
    await page.getByText('10-sites.yaml').waitFor({ timeout: 5000 });

    await writeFile(
      join(configDir, '20-broken.yaml'),
      'version: 1\npools:\n  - name: broken\n    nodes:\n      - address: no-port-here\n',
    );
    await eventually(
      async () => (await edge.api<{ ok: boolean }>('GET', '/import/status')).body.ok === false,
      'the importer to refuse the broken document',
      10_000,
    );
    const problems = page.getByRole('alert').filter({ hasText: 'Why the last import was refused' });
    await problems.waitFor({ timeout: 10_000 });
    const text = (await problems.textContent()) ?? '';
    assert.match(text, /20-broken\.yaml/);
    assert.match(text, /pools\[0\]\.nodes\[0\]\.address/);
    await screenshot(page, 'import-status');
  } finally {
    await page.context().close();
  }
});

test('access policies are reordered by dragging and from the keyboard, and the order is saved', async () => {
  for (const name of ['console-first', 'console-second', 'console-third']) {
    const res = await edge.api('POST', '/access-policies', { name, action: 'allow' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const page = await newPage();
  try {
    await signIn(page, edge.adminToken);
    await page.getByRole('navigation').waitFor({ timeout: 5000 });
    await open(page, 'Access policies');
    const item = (name: string) => page.locator(`li[data-policy="${name}"]`);
    await item('console-third').waitFor({ timeout: 5000 });

    await item('console-third').dragTo(item('console-first'));
    await page.getByRole('button', { name: 'Move down console-first' }).press('Enter');
    const items = await page.locator('li[data-policy]').all();
    const names = await Promise.all(items.map((l) => l.getAttribute('data-policy')));
    assert.deepEqual(names, ['console-third', 'console-second', 'console-first']);
    await screenshot(page, 'access-policies');

    // Someone else reorders meanwhile: saving on the stale order is refused, with the code.
    const other = ['console-second', 'console-first', 'console-third'];
    assert.equal((await edge.api('PUT', '/access-policies/order', { names: other })).status, 200);
    await page.getByRole('button', { name: 'Save order' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'POSTERN_ERR_PRECONDITION_FAILED' })
      .waitFor({ timeout: 5000 });
    assert.deepEqual(
      (await edge.api<{ names: string[] }>('GET', '/access-policies/order')).body.names,
      other,
    );

    // After a fresh read ([second, first, third]), one drag gives the wanted order and saves.
    await page.reload();
    await item('console-first').waitFor({ timeout: 5000 });
    await item('console-third').dragTo(item('console-second'));
    await page.getByRole('button', { name: 'Save order' }).click();
    await eventually(
      async () => {
        const order = await edge.api<{ names: string[] }>('GET', '/access-policies/order');
        return (
          JSON.stringify(order.body.names) ===
          JSON.stringify(['console-third', 'console-second', 'console-first'])
        );
      },
      'the saved order',
      5000,
    );

    // The change is in the audit log, shown newest first.
    await open(page, 'Audit log');
    await page.getByRole('cell', { name: '/api/v1/access-policies/order' }).first().waitFor({
      timeout: 5000,
    });
  } finally {
    await page.context().close();
  }
});
