import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../../core/index.js';
import { escapeHtml, htmlPage, redirect, type AuthResponse } from './auth-html.js';
import { AttemptLimiter } from './attempt-limiter.js';
import {
  LOGGED_OUT_COOKIE,
  LOGIN_COOKIE,
  LOGIN_COOKIE_PREFIX,
  cookie,
  readCookie,
  secretKey,
} from './browser-session.js';
import type { IdentityProviders } from './identity-providers.js';
import { OidcClient } from './oidc-client.js';
import type { PendingLogin, SessionStore } from './session-store.js';
import type { UserIdentity } from './user-identity.js';

/** The parts of a request (an AuthRequest of the auth pages) a provider login reads. */
export interface LoginRequest {
  readonly host: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** Whether the client reached the edge over TLS. */
  readonly secure: boolean;
  /** The https virtual server the request came through; undefined on the access listener. */
  readonly virtualServer?: string | undefined;
  /** The client's address: starts are limited per address (not at all without one). */
  readonly clientIp?: string | undefined;
}

/** The request of a login start: the Cookie field and address when the caller has them. */
export type LoginStartRequest = Pick<LoginRequest, 'host' | 'secure'> &
  Partial<Pick<LoginRequest, 'headers' | 'clientIp'>>;

/** What a login at an identity provider needs from the auth pages. */
export interface ProviderLoginOptions {
  readonly store: SessionStore;
  readonly providers: IdentityProviders;
  readonly clock: Clock;
  readonly logger?: Logger | undefined;
  /** Where the provider sends the browser back unless a start says otherwise. */
  readonly callbackPath: string;
  /** How long a login may take at the provider; default 10 min. */
  readonly loginTimeoutMs?: number | undefined;
  /**
   * Logins one client address may start per minute on this edge; the next ones get 429 until the
   * minute is over. Default 30.
   */
  readonly startsPerMinute?: number | undefined;
}

/** The login a callback belongs to: the admin console's, or any other (browser, CLI, device). */
export type ExpectedLogin = 'admin' | 'browser or cli';

/** A redeemed login: what was pending and who logged in. */
export interface RedeemedLogin {
  readonly pending: PendingLogin;
  readonly identity: UserIdentity;
  /** When the provider authenticated the user (`auth_time`, ms), when it said. */
  readonly authTime?: number | undefined;
  /** The login's ID token, when the provider has a logout that takes it as id_token_hint. */
  readonly idToken?: string | undefined;
  /** The Set-Cookie that removes this login's cookie from the browser. */
  readonly clearCookie: string;
}

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
/** A DNS name (253) and a port (`:65535`). */
const MAX_HOST_LENGTH = 259;
const ADMIN_LOGIN_COOKIE = 'postern-admin-login';
/** Path of the admin login cookie: only the admin sign-in pages need it. */
const ADMIN_LOGIN_PATH = '/.postern/admin/';
/** Logins one browser may have under way at once (one cookie each); older ones are dropped. */
export const MAX_LOGIN_COOKIES = 5;
/**
 * Longest path (and query) a login returns to, in bytes; a longer one returns to `/`. The
 * pending login keeps it in the store, so an unauthenticated request must not write more.
 */
export const MAX_RETURN_PATH_BYTES = 2048;

/**
 * The round trip to an identity provider that every login shares: `start` keeps a pending
 * login (state, nonce, PKCE verifier) and sends the browser to the provider with a cookie
 * binding the state to it; `redeem` checks the callback against both and exchanges the code.
 */
export class ProviderLogin {
  readonly #o: ProviderLoginOptions;
  /**
   * Starts per client address. In this edge's memory, not the shared store: the limit protects
   * the store from writes, and counting in it would cost a write per request too.
   */
  readonly #starts: AttemptLimiter;

  constructor(options: ProviderLoginOptions) {
    this.#o = options;
    this.#starts = new AttemptLimiter(options.clock, {
      maxFailures: options.startsPerMinute ?? 30,
      windowMs: 60_000,
    });
  }

  /** The store of pending logins (the CLI login keeps its one-time ids there too). */
  get store(): SessionStore {
    return this.#o.store;
  }

  /** Sends the browser to the login's provider, which returns to `callbackPath` on the same host. */
  async start(
    req: LoginStartRequest,
    login: Pick<PendingLogin, 'kind' | 'identityProvider' | 'returnTo'> &
      Partial<Pick<PendingLogin, 'virtualServer' | 'clientState'>>,
    callbackPath: string = this.#o.callbackPath,
  ): Promise<AuthResponse> {
    const host = req.host ?? '';
    if (!validHost(host)) return badHostPage();
    // A request without an address (the admin listener gives none) is not limited: one shared
    // key would let anyone lock everyone out.
    const source = req.clientIp === undefined ? [] : [req.clientIp];
    if (this.#starts.locked(source)) return tooManyLoginsPage(this.#starts.retryAfterMs(source));
    this.#starts.fail(source);
    const client = await this.#o.providers.client(login.identityProvider);
    const redirectUri = `${req.secure ? 'https' : 'http'}://${host}${callbackPath}`;
    const checks = OidcClient.newChecks(redirectUri);
    const ttlMs = this.#o.loginTimeoutMs ?? 600_000;
    await this.#o.store.putPendingLogin({
      ...login,
      returnTo: boundedReturn(login),
      key: secretKey(checks.state),
      nonce: checks.nonce,
      codeVerifier: checks.codeVerifier,
      redirectUri,
      expiresAt: this.#o.clock.now() + ttlMs,
    });
    const loggedOut = readCookie(req.headers?.cookie, LOGGED_OUT_COOKIE) !== undefined;
    const location = await client.authorizationUrl(checks, { freshLogin: loggedOut });
    const set = loginCookie(login.kind, req.secure, checks.state, Math.ceil(ttlMs / 1000));
    const dropped = login.kind === 'admin' ? [] : oldestLoginCookies(req.headers?.cookie);
    if (loggedOut) dropped.push(LOGGED_OUT_COOKIE);
    return redirect(location.href, {
      'set-cookie': [set, ...dropped.map((name) => cookie(name, '', 0))],
    });
  }

  /**
   * The checks every callback shares: the pending login for `state`, of the expected kind, started
   * by this browser, not refused by the provider; then the code is redeemed. A page otherwise.
   */
  async redeem(
    req: LoginRequest,
    query: URLSearchParams,
    expected: ExpectedLogin,
  ): Promise<RedeemedLogin | AuthResponse> {
    const state = query.get('state') ?? '';
    const again =
      expected === 'admin'
        ? 'Go back to the Postern console and sign in again.'
        : 'Go back to the application and start again.';
    // Checked before the pending login is taken, so a callback from another browser cannot use
    // up the login of the browser that started it.
    const cookies = req.headers.cookie;
    if (state && !startedHere(cookies, state, 'admin') && !startedHere(cookies, state, 'browser')) {
      return notStartedHerePage(again);
    }
    const pending = state ? await this.#o.store.takePendingLogin(secretKey(state)) : undefined;
    if (!pending || pending.expiresAt <= this.#o.clock.now()) {
      return htmlPage(400, 'Login expired', [
        `This login is unknown, expired or already used. ${again}`,
      ]);
    }
    if ((pending.kind === 'admin') !== (expected === 'admin')) {
      return htmlPage(400, 'Wrong callback', [
        `This login belongs to another Postern page. ${again}`,
      ]);
    }
    if (!startedHere(cookies, state, pending.kind)) return notStartedHerePage(again);
    if (pending.kind === 'browser' && pending.virtualServer !== req.virtualServer) {
      return htmlPage(400, 'Wrong server', [`This login belongs to another application. ${again}`]);
    }
    const refused = query.get('error');
    if (refused !== null) {
      const detail = query.get('error_description') ?? refused;
      return htmlPage(401, 'Login refused', [
        `The identity provider said: ${escapeHtml(detail)}.`,
        again,
      ]);
    }
    const client = await this.#o.providers.client(pending.identityProvider);
    const { authTime, idToken, ...identity } = await client.redeem(query, { ...pending, state });
    this.#o.logger?.info(
      { user: identity.email ?? identity.subject, idp: identity.idp, kind: pending.kind },
      'user logged in',
    );
    const clearCookie = loginCookie(pending.kind, req.secure, state, 0);
    return { pending, identity, authTime, idToken, clearCookie };
  }
}

/**
 * Whether `host` is a Host header the edge builds URLs from (a name or IP, an optional port). A
 * DNS name has at most 253 characters, so a longer one is refused before it reaches the store
 * (in a pending login's redirect URI).
 */
export function validHost(host: string): boolean {
  return host.length <= MAX_HOST_LENGTH && HOST.test(host);
}

/** The page refusing a request whose Host header is not valid. */
export function badHostPage(): AuthResponse {
  return htmlPage(400, 'Bad request', ['The Host header is not valid.']);
}

/**
 * The Set-Cookie that removes the single login cookie of earlier versions (`__Host-postern-login`)
 * or the admin login cookie; a login's own cookie is removed by {@link RedeemedLogin.clearCookie}.
 */
export function clearLoginCookie(kind: PendingLogin['kind'], secure: boolean): string {
  return kind === 'admin' ? loginCookie(kind, secure, '', 0) : cookie(LOGIN_COOKIE, '', 0);
}

/**
 * The name of the cookie binding `state` to the browser. Each login has its own, so logins
 * started in several tabs at once all finish; the name comes from a hash of the state. Admin
 * logins keep one cookie (the traffic layer strips it by its exact name).
 */
export function loginCookieName(kind: PendingLogin['kind'], state: string): string {
  return kind === 'admin'
    ? ADMIN_LOGIN_COOKIE
    : `${LOGIN_COOKIE_PREFIX}${secretKey(state).slice(0, 22)}`;
}

/** Whether the browser holds the cookie binding `state` for a login of `kind`. */
function startedHere(
  header: string | undefined,
  state: string,
  kind: PendingLogin['kind'],
): boolean {
  return readCookie(header, loginCookieName(kind, state)) === state;
}

function notStartedHerePage(again: string): AuthResponse {
  return htmlPage(400, 'Login not started here', [
    `This browser did not start this login. ${again}`,
  ]);
}

function tooManyLoginsPage(retryAfterMs: number): AuthResponse {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return htmlPage(
    429,
    'Too many logins',
    [
      'Too many logins were started from your address in the last minute.',
      `Wait ${seconds} seconds, then reload the page.`,
    ],
    { 'retry-after': String(seconds) },
  );
}

/** A browser or device login's return path, or `/` when it is longer than the store should keep. */
function boundedReturn(login: Pick<PendingLogin, 'kind' | 'returnTo'>): string {
  if (login.kind === 'cli' || login.kind === 'admin') return login.returnTo;
  return Buffer.byteLength(login.returnTo, 'utf8') > MAX_RETURN_PATH_BYTES ? '/' : login.returnTo;
}

/**
 * The login cookies to drop so that, with the new one, a browser holds at most
 * {@link MAX_LOGIN_COOKIES}. Browsers send cookies of the same path oldest first (RFC 6265
 * §5.4), so the first ones go.
 */
function oldestLoginCookies(header: string | undefined): string[] {
  const names = new Set<string>();
  for (const part of header?.split(';') ?? []) {
    const name = part.slice(0, Math.max(0, part.indexOf('='))).trim();
    if (name.startsWith(LOGIN_COOKIE_PREFIX)) names.add(name);
  }
  return [...names].slice(0, Math.max(0, names.size - MAX_LOGIN_COOKIES + 1));
}

/**
 * The Set-Cookie of a login's state. The admin listener is often plain http on loopback, where a
 * `__Host-` (Secure) cookie would be dropped, so admin logins use their own cookie, Secure only
 * over TLS.
 */
function loginCookie(
  kind: PendingLogin['kind'],
  secure: boolean,
  state: string,
  maxAgeSeconds: number,
): string {
  const value = maxAgeSeconds > 0 ? state : '';
  if (kind !== 'admin') return cookie(loginCookieName(kind, state), value, maxAgeSeconds);
  const flags = `Path=${ADMIN_LOGIN_PATH}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  return `${ADMIN_LOGIN_COOKIE}=${value}; ${flags}; Max-Age=${maxAgeSeconds}`;
}
