import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import {
  crossSiteRefusedPage,
  escapeHtml,
  formRefusedPage,
  htmlPage,
  type AuthResponse,
} from './auth-html.js';
import {
  LOGGED_OUT_COOKIE,
  LOGGED_OUT_SECONDS,
  SESSION_COOKIE,
  cookie,
  readCookie,
  sessionCookieName,
  type BrowserSessions,
} from './browser-session.js';
import { crossSite, sameToken } from './device-form-checks.js';
import { readForm, type FormRequest } from './form-body.js';
import type { IdentityProviders } from './identity-providers.js';
import { validHost } from './provider-login.js';
import type { BrowserSession } from './session-store.js';

/** Where logout is asked for (GET: a page with a button) and done (POST). */
export const LOGOUT_PATH = '/.postern/auth/logout';
/** The page the identity provider sends the browser back to after its own logout. */
export const LOGGED_OUT_PATH = '/.postern/auth/logged-out';

/** The parts of a request a logout reads (an AuthRequest of the auth pages). */
export interface LogoutRequest extends FormRequest {
  readonly method: string;
  readonly host: string | undefined;
  readonly secure: boolean;
  readonly virtualServer?: string | undefined;
}

const FORM_LIMIT_BYTES = 1024;
/**
 * Longest a logout waits for the provider's discovery document (usually cached from the login):
 * the Postern session has ended by then, so an unreachable provider must not hold the page.
 */
const PROVIDER_WAIT_MS = 2000;

/** `promise`, or a rejection once `ms` have passed. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * The logout token of a session: an HMAC of a label under the session cookie's secret, which
 * only this browser holds, so another site cannot make a browser log out.
 */
function logoutToken(secret: string | undefined): string {
  return createHmac('sha256', secret ?? '')
    .update('logout')
    .digest('base64url');
}

/**
 * Logout: GET shows a page with a "Log out" button; the button POSTs the form (same site only,
 * with a token bound to the session cookie), which ends the session on every edge, asks the
 * next login for a fresh provider login, and, when the provider publishes an
 * `end_session_endpoint`, sends the browser there to end the provider's session too (it comes
 * back to {@link LOGGED_OUT_PATH}). Any page can link to the GET; none can log a user out.
 */
export class LogoutPages {
  readonly #sessions: BrowserSessions;
  readonly #providers: IdentityProviders;
  readonly #log: Logger | undefined;

  constructor(options: {
    readonly sessions: BrowserSessions;
    readonly providers: IdentityProviders;
    readonly logger?: Logger | undefined;
  }) {
    this.#sessions = options.sessions;
    this.#providers = options.providers;
    this.#log = options.logger;
  }

  /** Answers {@link LOGOUT_PATH}. */
  async respond(req: LogoutRequest): Promise<AuthResponse> {
    const name =
      req.virtualServer === undefined ? SESSION_COOKIE : sessionCookieName(req.virtualServer);
    const secret = readCookie(req.headers.cookie, name);
    if (req.method === 'GET' || req.method === 'HEAD') return confirmPage(logoutToken(secret));
    if (req.method !== 'POST') {
      return htmlPage(405, 'Method not allowed', ['Log out with the button on this page.'], {
        allow: 'GET, POST',
      });
    }
    if (crossSite(req)) {
      return crossSiteRefusedPage([
        `Log out from <a href="${LOGOUT_PATH}">the Postern page</a> itself.`,
      ]);
    }
    const form = await readForm(req, FORM_LIMIT_BYTES);
    if (!(form instanceof URLSearchParams)) return form;
    if (secret !== undefined && !sameToken(form.get('csrf') ?? '', logoutToken(secret))) {
      return formRefusedPage(403, [
        `The form is stale or forged; <a href="${LOGOUT_PATH}">open the page again</a>.`,
      ]);
    }
    const session = await this.#sessions.find(secret);
    await this.#sessions.end(secret);
    const cookies = [
      // Each virtual server has its own session cookie; the one of earlier versions goes too.
      ...[...new Set([name, SESSION_COOKIE])].map((n) => cookie(n, '', 0)),
      // The next login asks the provider for a fresh login (prompt=login).
      cookie(LOGGED_OUT_COOKIE, '1', LOGGED_OUT_SECONDS),
    ];
    const endSession = session && (await this.#providerLogout(session, req));
    if (endSession === undefined) {
      return { ...loggedOutPage({ 'set-cookie': cookies }), reason: 'logged_out' };
    }
    return {
      status: 303,
      headers: { location: endSession, 'cache-control': 'no-store', 'set-cookie': cookies },
      body: '',
      reason: 'logged_out',
    };
  }

  /** The provider's logout URL (RP-initiated logout), or undefined when it offers none. */
  async #providerLogout(session: BrowserSession, req: LogoutRequest): Promise<string | undefined> {
    const idp = session.identity.idp;
    const host = req.host ?? '';
    if (!validHost(host)) return undefined;
    try {
      const client = await within(PROVIDER_WAIT_MS, this.#providers.client(idp));
      const back = `${req.secure ? 'https' : 'http'}://${host}${LOGGED_OUT_PATH}`;
      return client.endSessionUrl({ postLogoutRedirectUri: back, idTokenHint: session.idToken })
        ?.href;
    } catch (err) {
      // The Postern session has ended already; the provider's stays, as before this feature.
      this.#log?.warn(
        { idp, err: (err as Error).message },
        "could not reach the identity provider's logout",
      );
      return undefined;
    }
  }
}

/** The page a logout ends on: here, or back from the provider's logout. */
export function loggedOutPage(
  extraHeaders: Readonly<Record<string, string | readonly string[]>> = {},
): AuthResponse {
  return htmlPage(
    200,
    'Logged out',
    ['Your session has ended.', '<a href="/">Log in again</a>'],
    extraHeaders,
  );
}

function confirmPage(csrf: string): AuthResponse {
  return htmlPage(200, 'Log out?', [
    'Log out of this application? You will have to log in again to use it.',
    `<form method="post" action="${LOGOUT_PATH}">` +
      `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">` +
      '<button type="submit" id="logout">Log out</button></form>',
  ]);
}
