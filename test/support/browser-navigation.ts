// Page navigation for the browser tests that tolerates Chromium's reaction to network changes.
import type { Page } from 'playwright-core';

/** Navigations tried at most, when Chromium keeps seeing network changes. */
const ATTEMPTS = 5;

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
