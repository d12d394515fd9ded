// What the browser tests share: Debian's Chromium launched for tests, page navigation and form
// submits that tolerate Chromium's reaction to network changes, and the test identity provider's
// login form.
//
// Why the tolerance: Chromium watches the host's interfaces (netlink) and, on Linux, answers
// every address or link change by closing its HTTP/2 sessions and flushing its socket pools with
// net::ERR_NETWORK_CHANGED. The network namespace tests running alongside add and delete veth
// interfaces all the time, so any navigation in flight then (a GET, a form's POST, or one hop of
// the redirects of a login) can end at Chromium's error page instead of its document. No switch
// turns that off: Chromium 156 has none for its network change notifier, and --disable-http2
// only makes it rarer (a POST over HTTP/1.1 and TLS was still lost once in 30 tries while a
// veth pair came and went every 150 ms). So the helpers below notice exactly that error and redo
// the lost step from a request that is safe to repeat; every other failure is thrown as before.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';

/** Debian's Chromium (scripts/setup-test-host.sh installs it). */
const CHROMIUM = '/usr/bin/chromium';

/** Navigations tried at most, when Chromium keeps seeing network changes. */
const ATTEMPTS = 5;

/** How Chromium reports a request it dropped because an interface came or went. */
const NETWORK_CHANGED = 'net::ERR_NETWORK_CHANGED';

/** How long Chromium may take to report a failed request after showing its error page. */
const REPORT_TIMEOUT_MS = 5_000;

/** The URL each page was last sent to by gotoSteadily: where a lost login starts again. */
const lastVisited = new WeakMap<Page, string>();

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
 * `page.goto(url)`, again when Chromium aborted it with net::ERR_NETWORK_CHANGED (see the top of
 * this file); a GET is safe to repeat. Other failures are thrown.
 */
export async function gotoSteadily(page: Page, url: string): Promise<void> {
  lastVisited.set(page, url);
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url);
      return;
    } catch (err) {
      const changed = (err as Error).message.includes(NETWORK_CHANGED);
      if (!changed || attempt >= ATTEMPTS) throw err;
      // goto fails as soon as the request does; Chromium's error page comes a moment later and
      // would interrupt the next attempt ("interrupted by another navigation to chrome-error").
      await page
        .waitForURL((u) => u.protocol === 'chrome-error:', { timeout: REPORT_TIMEOUT_MS })
        .catch(() => undefined);
      await pause(attempt);
    }
  }
}

/**
 * Fills the test identity provider's login form (oidc-provider's; any password), submits it and
 * waits until the redirects that follow have ended in a document. When Chromium lost the POST
 * or one of those redirects to a network change, it is unknown how far the provider and the edge
 * got (the request may have been handled), so neither is repeated: the login starts again at the
 * URL last given to gotoSteadily, a GET that begins a fresh login. There the provider shows its
 * form again, or, when the lost step came after the provider had logged the user in, sends the
 * browser on without it.
 */
export async function logInAtProvider(page: Page, user: string, timeoutMs: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await page.waitForSelector('input[name="login"]', { timeout: timeoutMs });
    await page.fill('input[name="login"]', user);
    await page.fill('input[name="password"]', 'any-password');
    const lost = await submitForm(page, 'button[type="submit"]', timeoutMs);
    if (lost === undefined) return;
    const start = lastVisited.get(page);
    if (start === undefined || attempt >= ATTEMPTS) throw lostError(lost, attempt);
    await pause(attempt);
    await gotoSteadily(page, start);
    if ((await page.$('input[name="login"]')) === null) return;
  }
}

/**
 * Clicks `button` of a form on the page and waits until the navigation it starts has ended in a
 * document. When Chromium lost that navigation to a network change, the server may or may not
 * have handled the POST (Chromium drops requests it has sent too, when it closes an HTTP/2
 * session), so the form's page is opened again (a GET) to see: with the button back, the POST
 * was not handled and is sent again; without it, it was, its answer is lost, and that is thrown.
 */
export async function submitSteadily(page: Page, button: string, timeoutMs: number): Promise<void> {
  const formPage = page.url();
  for (let attempt = 1; ; attempt++) {
    const lost = await submitForm(page, button, timeoutMs);
    if (lost === undefined) return;
    if (attempt >= ATTEMPTS) throw lostError(lost, attempt);
    await pause(attempt);
    await gotoSteadily(page, formPage);
    if ((await page.$(button)) === null) {
      const shown = ((await page.textContent('body')) ?? '').slice(0, 300);
      throw new Error(
        `Chromium lost the answer to ${described(lost)} after the server handled it ` +
          `(${formPage} no longer shows ${button}, but: ${shown})`,
      );
    }
  }
}

/**
 * Clicks `button` and waits for the main frame's next document. Resolves with the navigation
 * request Chromium lost to a network change (once its error page is shown), or undefined when a
 * document came. A navigation that failed otherwise, or never ended, is thrown with its error.
 */
async function submitForm(
  page: Page,
  button: string,
  timeoutMs: number,
): Promise<Request | undefined> {
  const failed: Request[] = [];
  const onFailed = (request: Request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) failed.push(request);
  };
  page.on('requestfailed', onFailed);
  try {
    const document = page.waitForEvent('framenavigated', {
      predicate: (frame) => frame === page.mainFrame(),
      timeout: timeoutMs,
    });
    document.catch(() => undefined); // awaited below; a failing click must not leave it unhandled
    await page.click(button);
    await document.catch((err: unknown) => {
      const errors = failed.map(described).join('; ') || 'no request failed';
      throw new Error(`the submit of ${button} led to no page (${errors})`, { cause: err });
    });
    if (!page.url().startsWith('chrome-error://')) return undefined;
    // The error page: which request was lost, and why (reported just before the page, or after).
    if (failed.length === 0) {
      await page
        .waitForEvent('requestfailed', {
          predicate: (r) => r.isNavigationRequest(),
          timeout: REPORT_TIMEOUT_MS,
        })
        .catch(() => undefined);
    }
    const lost = failed.at(-1);
    if (lost?.failure()?.errorText === NETWORK_CHANGED) return lost;
    const why = lost ? described(lost) : 'no failed request reported';
    throw new Error(`the submit of ${button} ended at Chromium's error page: ${why}`);
  } finally {
    page.off('requestfailed', onFailed);
  }
}

/** `POST https://…: net::ERR_…`, for failure messages. */
function described(request: Request): string {
  return `${request.method()} ${request.url()}: ${request.failure()?.errorText ?? 'no error'}`;
}

function lostError(lost: Request, attempts: number): Error {
  return new Error(
    `Chromium lost ${described(lost)} ${attempts} times; ` +
      'is something changing network interfaces nonstop?',
  );
}

/** Waits a little longer after each lost attempt, for the interfaces to settle. */
function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100 * attempt));
}
