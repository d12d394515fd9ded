import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { isPosternError, systemClock, type Clock } from '../../core/index.js';
import type { DeviceAttemptRepository, DeviceAuthorizationRepository } from '../../store/index.js';
import {
  htmlPage,
  jsonResponse,
  loginFailedPage,
  redirect,
  type AuthResponse,
} from './auth-html.js';
import { BrowserSessions, cookie, sessionCookieName } from './browser-session.js';
import { CliLogin } from './cli-login.js';
import { DeviceFlow } from './device-flow.js';
import { DEVICE_PATHS, DEVICE_SCOPE, DevicePages, deviceSessionCookie } from './device-pages.js';
import { logWithReference } from './failure-reference.js';
import { readMessageBody } from './form-body.js';
import type { IdentityProviders } from './identity-providers.js';
import { LOGGED_OUT_PATH, LOGOUT_PATH, LogoutPages, loggedOutPage } from './logout-pages.js';
import { ProviderLogin } from './provider-login.js';
import type { SessionStore } from './session-store.js';
import type { UserIdentity } from './user-identity.js';
import type { UserTokenAuthority } from './user-token.js';

/** Paths the identity layer answers on every https virtual server (and the access listener). */
export const AUTH_PATHS = {
  jwks: '/.postern/jwks.json',
  callback: '/.postern/auth/callback',
  /** GET: a page with a "Log out" button; POST (that form): the logout. */
  logout: LOGOUT_PATH,
  /** Where the identity provider's logout sends the browser back. */
  loggedOut: LOGGED_OUT_PATH,
  cliLogin: '/.postern/cli/login',
  /** `postern login --device`: the verification page and, below it, the CLI's endpoints. */
  cliDevice: '/.postern/cli/device',
} as const;

/** A request as the identity layer needs it. */
export interface AuthRequest {
  readonly method: string;
  /** Path and query. */
  readonly target: string;
  readonly host: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** Whether the client reached the edge over TLS (it is for https virtual servers). */
  readonly secure: boolean;
  /** The https virtual server the request came through; undefined on the access listener. */
  readonly virtualServer?: string | undefined;
  /** The client's address (shown on the device approval page, used for rate limits). */
  readonly clientIp?: string | undefined;
  /** Reads the body, at most `limit` bytes (undefined beyond); for the device page's forms. */
  readonly readBody?: ((limit: number) => Promise<Buffer | undefined>) | undefined;
}

/** How the auth pages are built. */
export interface AuthPagesOptions {
  readonly authority: UserTokenAuthority;
  readonly store: SessionStore;
  readonly providers: IdentityProviders;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
  /** Provider `postern login` uses; default the only one configured. */
  readonly cliIdentityProvider?: string | undefined;
  /** Lifetime of the token `postern login` stores; default 8 h. */
  readonly cliTokenTtlMs?: number | undefined;
  /** How long a login may take at the provider; default 10 min. */
  readonly loginTimeoutMs?: number | undefined;
  /** The shared store's device login tables; without them `postern login --device` is not offered. */
  readonly devices?: DeviceStores | undefined;
  /** How long a `postern login --device` waits for approval; default 10 min. */
  readonly deviceLoginTtlMs?: number | undefined;
}

/** What device logins keep in the shared store (a Store has both). */
export interface DeviceStores {
  readonly deviceAuthorizations: DeviceAuthorizationRepository;
  /** Wrong codes and starts per address, counted for every edge together. */
  readonly deviceAttempts: DeviceAttemptRepository;
}

/**
 * The edge's login endpoints: the OIDC callback (browser and CLI logins), logout, the CLI login
 * start, and the JWK set. `handle` serves them on any Node HTTP server (the access listener);
 * https virtual servers reach them through their access gate. The round trip to the identity
 * provider is in provider-login.ts, the CLI's logins in cli-login.ts and the device login's
 * pages in device-pages.ts.
 */
export class AuthPages {
  readonly #o: AuthPagesOptions;
  readonly sessions: BrowserSessions;
  /** The device login (`postern login --device`), when the edge has a shared store. */
  readonly devices: DeviceFlow | undefined;
  readonly #devicePages: DevicePages | undefined;
  readonly #logins: ProviderLogin;
  readonly #cli: CliLogin;
  readonly #logout: LogoutPages;

  constructor(options: AuthPagesOptions) {
    this.#o = options;
    const clock = options.clock ?? systemClock;
    this.sessions = new BrowserSessions(options.store, clock);
    this.#logins = new ProviderLogin({ ...options, clock, callbackPath: AUTH_PATHS.callback });
    this.#logout = new LogoutPages({
      sessions: this.sessions,
      providers: options.providers,
      logger: options.logger,
    });
    this.#cli = new CliLogin({
      authority: options.authority,
      providers: options.providers,
      logins: this.#logins,
      identityProvider: options.cliIdentityProvider,
      tokenTtlMs: options.cliTokenTtlMs,
    });
    this.devices =
      options.devices &&
      new DeviceFlow({
        repository: options.devices.deviceAuthorizations,
        authority: options.authority,
        clock,
        logger: options.logger,
        ttlMs: options.deviceLoginTtlMs,
        tokenTtlMs: options.cliTokenTtlMs,
      });
    this.#devicePages =
      this.devices &&
      options.devices &&
      new DevicePages({
        flow: this.devices,
        attempts: options.devices.deviceAttempts,
        sessions: this.sessions,
        clock,
        logger: options.logger,
        startLogin: (req, returnTo) => this.#guard(() => this.#cli.startDevice(req, returnTo)),
      });
  }

  /** Deletes device logins and attempt counters (of every edge) that lapsed a while ago. */
  async sweepDevices(): Promise<void> {
    await this.devices?.sweep();
    await this.#devicePages?.sweep();
  }

  /** Serves an auth path on a Node server; true when it handled the request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const answer = await this.respond({
      method: req.method ?? 'GET',
      target: req.url ?? '/',
      host: req.headers.host,
      headers: req.headers,
      secure: (req.socket as Partial<TLSSocket>).encrypted === true,
      clientIp: req.socket.remoteAddress,
      readBody: (limit) => readMessageBody(req, limit),
    });
    if (!answer) return false;
    const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) };
    res.writeHead(answer.status, headers as Record<string, string | string[]>);
    res.end(answer.body);
    return true;
  }

  /** The response to an auth path, or undefined when `target` is not one. */
  async respond(req: AuthRequest): Promise<AuthResponse | undefined> {
    const url = new URL(req.target, 'http://x');
    if (url.pathname.startsWith(AUTH_PATHS.cliDevice)) {
      const page = await this.#guard(
        async () => (await this.#devicePages?.respond(req, url)) ?? deviceLoginOff(req, url),
      );
      return page;
    }
    switch (url.pathname) {
      case AUTH_PATHS.jwks:
        return jsonResponse(200, this.#o.authority.jwks(), 300);
      case AUTH_PATHS.callback:
        return this.#guard(() => this.#callback(req, url.searchParams));
      case AUTH_PATHS.logout:
        return this.#logout.respond(req);
      case AUTH_PATHS.loggedOut:
        return loggedOutPage();
      case AUTH_PATHS.cliLogin:
        return this.#guard(() => this.#cli.start(req, url.searchParams));
      default:
        return url.pathname.startsWith('/.postern/')
          ? htmlPage(404, 'Not found', ['This Postern page does not exist.'])
          : undefined;
    }
  }

  /** Sends a browser to `identityProvider` to log in to `virtualServer`, then back to the request. */
  async startBrowserLogin(
    req: AuthRequest,
    login: { readonly virtualServer: string; readonly identityProvider: string },
  ): Promise<AuthResponse> {
    return this.#guard(() =>
      this.#logins.start(req, {
        kind: 'browser',
        identityProvider: login.identityProvider,
        virtualServer: login.virtualServer,
        returnTo: safeReturnPath(req.target),
      }),
    );
  }

  /**
   * Sends an administrator to `identityProvider` (console sign-in on the admin listener); the
   * provider returns to `callbackPath` on the same host, which calls {@link finishAdminLogin}.
   */
  async startAdminLogin(
    req: AuthRequest,
    login: { readonly identityProvider: string; readonly callbackPath: string },
  ): Promise<AuthResponse> {
    return this.#guard(() =>
      this.#logins.start(
        req,
        { kind: 'admin', identityProvider: login.identityProvider, returnTo: '/' },
        login.callbackPath,
      ),
    );
  }

  /**
   * Checks the callback of an admin login (state, login cookie, nonce, PKCE) and passes the
   * user to `signedIn`, whose answer is sent; errors become a "Login failed" page.
   */
  async finishAdminLogin(
    req: AuthRequest,
    signedIn: (identity: UserIdentity) => Promise<AuthResponse>,
  ): Promise<AuthResponse> {
    return this.#guard(async () => {
      const url = new URL(req.target, 'http://x');
      const done = await this.#logins.redeem(req, url.searchParams, 'admin');
      if ('status' in done) return done;
      const answer = await signedIn(done.identity);
      const clear = done.clearCookie;
      const previous = answer.headers['set-cookie'] ?? [];
      return { ...answer, headers: { ...answer.headers, 'set-cookie': [clear, previous].flat() } };
    });
  }

  async #callback(req: AuthRequest, query: URLSearchParams): Promise<AuthResponse> {
    const done = await this.#logins.redeem(req, query, 'browser or cli');
    if ('status' in done) return done;
    const { pending, identity, clearCookie: clearLogin } = done;
    if (pending.kind === 'device') {
      const secret = await this.sessions.create(identity, DEVICE_SCOPE);
      return redirect(pending.returnTo, {
        'set-cookie': [deviceSessionCookie(secret), clearLogin],
      });
    }
    if (pending.kind === 'cli') {
      // The browser's confirmations so far: abandoned ones beyond the cap are dropped.
      return this.#cli.finish(pending, identity, { clear: clearLogin, header: req.headers.cookie });
    }
    // The reauthentication deadline runs from when the provider really authenticated the user.
    const secret = await this.sessions.create(identity, pending.virtualServer ?? '', {
      authTime: done.authTime,
      // Sent as id_token_hint when the user logs out (providers then need no confirmation).
      idToken: done.idToken,
    });
    return redirect(pending.returnTo, {
      'set-cookie': [cookie(sessionCookieName(pending.virtualServer ?? ''), secret), clearLogin],
    });
  }

  async #guard(run: () => Promise<AuthResponse>): Promise<AuthResponse> {
    try {
      return await run();
    } catch (err) {
      if (!isPosternError(err)) throw err;
      // The message names the provider's address: the visitor gets the code and a reference.
      return loginFailedPage(err.code, logWithReference(this.#o.logger, err, 'login failed'));
    }
  }
}

/**
 * The 404 of a device path on an edge without device login: JSON, in the shape of the other
 * CLI endpoints' errors, to the CLI's endpoints (the start and the token poll), which machine
 * clients read; an HTML page to the verification page and its forms, which browsers show.
 */
function deviceLoginOff(req: AuthRequest, url: URL): AuthResponse {
  const description = 'This edge does not offer device logins.';
  const forCli =
    url.pathname === DEVICE_PATHS.token ||
    (url.pathname === DEVICE_PATHS.page && req.method === 'POST');
  return forCli
    ? jsonResponse(404, { error: 'device_login_off', error_description: description })
    : htmlPage(404, 'Not found', [description]);
}

/** The request's path and query when it is a safe place to return to, else `/`. */
export function safeReturnPath(target: string): string {
  // Only a same-origin path: "//host" and "/\host" would leave the site in some browsers.
  if (!target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) return '/';
  if (target.startsWith('/.postern/')) return '/';
  // Request targets never hold raw whitespace or control characters; reject rather than judge.
  return [...target].some((c) => c.charCodeAt(0) <= 0x20) ? '/' : target;
}
