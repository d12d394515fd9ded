// What the browser tests share: Debian's Chromium launched for tests, page navigation that
// tolerates Chromium's reaction to network changes, and the test identity provider's login form.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (scripts/setup-test-host.sh installs it). */
const CHROMIUM = '/usr/bin/chromium';

/** Navigations tried at most, when Chromium keeps seeing network changes. */
const ATTEMPTS = 5;

/** Starts headless Chromium; without its sandbox when running as root (as CI containers do). */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup-test-host.sh`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium refuses to start as root with its sandbox.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/**
 * `page.goto(url)`, again when Chromium aborted it with net::ERR_NETWORK_CHANGED. Chromium
 * aborts navigations whenever a network interface appears or goes, which the network namespace
 * tests running alongside do all the time; a GET is safe to repeat. Other failures are thrown.
 */
export async function gotoSteadily(page: Page, url: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url);
      return;
    } catch (err) {
      const changed = /net::ERR_NETWORK_CHANGED/.test((err as Error).message);
      if (!changed || attempt >= ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/** Fills the test identity provider's login form (oidc-provider's; any password) and submits it. */
export async function logInAtProvider(page: Page, user: string, timeoutMs: number): Promise<void> {
  await page.waitForSelector('input[name="login"]', { timeout: timeoutMs });
  await page.fill('input[name="login"]', user);
  await page.fill('input[name="password"]', 'any-password');
  await page.click('button[type="submit"]');
}
