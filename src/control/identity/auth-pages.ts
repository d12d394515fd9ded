import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { isPosternError, systemClock, type Clock } from '../../core/index.js';
import type { DeviceAttemptRepository, DeviceAuthorizationRepository } from '../../store/index.js';
import {
  htmlPage,
  escapeHtml,
  jsonResponse,
  loginFailedPage,
  redirect,
  type AuthResponse,
} from './auth-html.js';
import {
  BrowserSessions,
  LOGIN_COOKIE,
  SESSION_COOKIE,
  cookie,
  readCookie,
  secretKey,
} from './browser-session.js';
import { DeviceFlow } from './device-flow.js';
import { DEVICE_SCOPE, DevicePages, deviceSessionCookie } from './device-pages.js';
import { readMessageBody } from './form-body.js';
import type { IdentityProviders } from './identity-providers.js';
import { OidcClient } from './oidc-client.js';
import type { PendingLogin, SessionStore } from './session-store.js';
import type { UserIdentity } from './user-identity.js';
import { CLI_AUDIENCE, type UserTokenAuthority } from './user-token.js';

/** Paths the identity layer answers on every https virtual server (and the access listener). */
export const AUTH_PATHS = {
  jwks: '/.postern/jwks.json',
  callback: '/.postern/auth/callback',
  logout: '/.postern/auth/logout',
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

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const LOOPBACK_CALLBACK = /^http:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):\d{1,5}\/[^\s#]*$/;
const CLIENT_STATE = /^[A-Za-z0-9_-]{16,256}$/;
const ADMIN_LOGIN_COOKIE = 'postern-admin-login';

/**
 * The edge's login endpoints: the OIDC callback (browser and CLI logins), logout, the CLI login
 * start, and the JWK set. `handle` serves them on any Node HTTP server (the access listener);
 * https virtual servers reach them through their access gate.
 */
export class AuthPages {
  readonly #o: AuthPagesOptions;
  readonly #clock: Clock;
  readonly sessions: BrowserSessions;
  /** The device login (`postern login --device`), when the edge has a shared store. */
  readonly devices: DeviceFlow | undefined;
  readonly #devicePages: DevicePages | undefined;

  constructor(options: AuthPagesOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.sessions = new BrowserSessions(options.store, this.#clock);
    this.devices =
      options.devices &&
      new DeviceFlow({
        repository: options.devices.deviceAuthorizations,
        authority: options.authority,
        clock: this.#clock,
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
        clock: this.#clock,
        logger: options.logger,
        startLogin: (req, returnTo) => this.#guard(() => this.#deviceLogin(req, returnTo)),
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
        async () =>
          (await this.#devicePages?.respond(req, url)) ??
          htmlPage(404, 'Not found', ['This edge does not offer device logins.']),
      );
      return page;
    }
    switch (url.pathname) {
      case AUTH_PATHS.jwks:
        return jsonResponse(200, this.#o.authority.jwks(), 300);
      case AUTH_PATHS.callback:
        return this.#guard(() => this.#callback(req, url.searchParams));
      case AUTH_PATHS.logout:
        return this.#logout(req);
      case AUTH_PATHS.cliLogin:
        return this.#guard(() => this.#cliLogin(req, url.searchParams));
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
      this.#start(req, {
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
      this.#start(
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
      const done = await this.#redeem(req, url.searchParams, 'admin');
      if ('status' in done) return done;
      const answer = await signedIn(done.identity);
      const clear = loginCookie('admin', req.secure, '', 0);
      const previous = answer.headers['set-cookie'] ?? [];
      return { ...answer, headers: { ...answer.headers, 'set-cookie': [clear, previous].flat() } };
    });
  }

  async #start(
    req: Pick<AuthRequest, 'host' | 'secure'>,
    login: Pick<PendingLogin, 'kind' | 'identityProvider' | 'returnTo'> &
      Partial<Pick<PendingLogin, 'virtualServer' | 'clientState'>>,
    callbackPath: string = AUTH_PATHS.callback,
  ): Promise<AuthResponse> {
    const host = req.host ?? '';
    if (!HOST.test(host)) return htmlPage(400, 'Bad request', ['The Host header is not valid.']);
    const client = await this.#o.providers.client(login.identityProvider);
    const redirectUri = `${req.secure ? 'https' : 'http'}://${host}${callbackPath}`;
    const checks = OidcClient.newChecks(redirectUri);
    const ttlMs = this.#o.loginTimeoutMs ?? 600_000;
    await this.#o.store.putPendingLogin({
      ...login,
      key: secretKey(checks.state),
      nonce: checks.nonce,
      codeVerifier: checks.codeVerifier,
      redirectUri,
      expiresAt: this.#clock.now() + ttlMs,
    });
    const location = await client.authorizationUrl(checks);
    return redirect(location.href, {
      'set-cookie': loginCookie(login.kind, req.secure, checks.state, Math.ceil(ttlMs / 1000)),
    });
  }

  async #callback(req: AuthRequest, query: URLSearchParams): Promise<AuthResponse> {
    const done = await this.#redeem(req, query, 'browser or cli');
    if ('status' in done) return done;
    const { pending, identity } = done;
    const clearLogin = cookie(LOGIN_COOKIE, '', 0);
    if (pending.kind === 'device') {
      const secret = await this.sessions.create(identity, DEVICE_SCOPE);
      return redirect(pending.returnTo, {
        'set-cookie': [deviceSessionCookie(secret), clearLogin],
      });
    }
    if (pending.kind === 'cli') {
      const ttlMs = this.#o.cliTokenTtlMs ?? 8 * 3600_000;
      const { token, expiresAt } = await this.#o.authority.issue(identity, {
        audience: CLI_AUDIENCE,
        ttlMs,
      });
      const back = new URL(pending.returnTo);
      back.searchParams.set('state', pending.clientState ?? '');
      back.searchParams.set('token', token);
      back.searchParams.set('expires_at', String(expiresAt));
      back.searchParams.set('user', identity.email ?? identity.subject);
      return redirect(back.href, { 'set-cookie': clearLogin });
    }
    const secret = await this.sessions.create(identity, pending.virtualServer ?? '');
    return redirect(pending.returnTo, {
      'set-cookie': [cookie(SESSION_COOKIE, secret), clearLogin],
    });
  }

  /**
   * The checks every callback shares: the pending login for `state`, of the expected kind, started
   * by this browser, not refused by the provider; then the code is redeemed. A page otherwise.
   */
  async #redeem(
    req: AuthRequest,
    query: URLSearchParams,
    expected: 'admin' | 'browser or cli',
  ): Promise<{ pending: PendingLogin; identity: UserIdentity } | AuthResponse> {
    const state = query.get('state') ?? '';
    const pending = state ? await this.#o.store.takePendingLogin(secretKey(state)) : undefined;
    const again =
      expected === 'admin'
        ? 'Go back to the Postern console and sign in again.'
        : 'Go back to the application and start again.';
    if (!pending || pending.expiresAt <= this.#clock.now()) {
      return htmlPage(400, 'Login expired', [
        `This login is unknown, expired or already used. ${again}`,
      ]);
    }
    if ((pending.kind === 'admin') !== (expected === 'admin')) {
      return htmlPage(400, 'Wrong callback', [
        `This login belongs to another Postern page. ${again}`,
      ]);
    }
    if (readCookie(req.headers.cookie, loginCookieName(pending.kind)) !== state) {
      return htmlPage(400, 'Login not started here', [
        `This browser did not start this login. ${again}`,
      ]);
    }
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
    const identity = await client.redeem(query, { ...pending, state });
    this.#o.logger?.info(
      { user: identity.email ?? identity.subject, idp: identity.idp, kind: pending.kind },
      'user logged in',
    );
    return { pending, identity };
  }

  async #logout(req: AuthRequest): Promise<AuthResponse> {
    if (req.method !== 'GET' && req.method !== 'POST') {
      return htmlPage(405, 'Method not allowed', ['Log out with GET or POST.'], {
        allow: 'GET, POST',
      });
    }
    await this.sessions.end(readCookie(req.headers.cookie, SESSION_COOKIE));
    return htmlPage(
      200,
      'Logged out',
      ['Your session has ended.', '<a href="/">Log in again</a>'],
      {
        'set-cookie': cookie(SESSION_COOKIE, '', 0),
      },
    );
  }

  async #cliLogin(req: AuthRequest, query: URLSearchParams): Promise<AuthResponse> {
    const callback = query.get('callback') ?? '';
    const clientState = query.get('state') ?? '';
    if (!LOOPBACK_CALLBACK.test(callback) || !CLIENT_STATE.test(clientState)) {
      return htmlPage(400, 'Bad login request', [
        'Start the login with <code>postern login --edge &lt;url&gt;</code>; the callback must be a loopback http URL.',
      ]);
    }
    const idp = this.#cliProvider();
    if (typeof idp !== 'string') return idp;
    if (query.get('check') === '1') return this.#checkCliLogin(req, idp);
    return this.#start(req, {
      kind: 'cli',
      identityProvider: idp,
      returnTo: callback,
      clientState,
    });
  }

  /**
   * `?check=1`, the CLI's check before it sends the user here: answers 204 when a login could
   * start (the provider answers), the same error page as a real start when not, and stores
   * nothing (no pending login, no cookie).
   */
  async #checkCliLogin(req: Pick<AuthRequest, 'host'>, idp: string): Promise<AuthResponse> {
    if (!HOST.test(req.host ?? ''))
      return htmlPage(400, 'Bad request', ['The Host header is not valid.']);
    await this.#o.providers.client(idp);
    return { status: 204, headers: { 'cache-control': 'no-store' }, body: '' };
  }

  /** Sends the browser approving a device login to the CLI's provider, then to `returnTo`. */
  async #deviceLogin(
    req: Pick<AuthRequest, 'host' | 'secure'>,
    returnTo: string,
  ): Promise<AuthResponse> {
    const idp = this.#cliProvider();
    if (typeof idp !== 'string') return idp;
    return this.#start(req, { kind: 'device', identityProvider: idp, returnTo });
  }

  /** The provider CLI logins use, or the page saying why there is none. */
  #cliProvider(): string | AuthResponse {
    const names = this.#o.providers.names();
    const idp = this.#o.cliIdentityProvider ?? (names.length === 1 ? names[0] : undefined);
    if (idp !== undefined) return idp;
    return htmlPage(503, 'No identity provider for the CLI', [
      names.length === 0
        ? 'This edge has no identity provider. Add one (<code>identity_providers</code> in a configuration document, or <code>POST /api/v1/identity-providers</code>); with several, start the edge with <code>--cli-identity-provider NAME</code>.'
        : `This edge has ${names.length} identity providers; start it with <code>--cli-identity-provider NAME</code> to choose one.`,
    ]);
  }

  async #guard(run: () => Promise<AuthResponse>): Promise<AuthResponse> {
    try {
      return await run();
    } catch (err) {
      if (!isPosternError(err)) throw err;
      // The message names the provider's address and tells the operator what to check: it goes
      // to the log; the visitor gets the code and a reference to quote to the administrator.
      const reference = randomUUID();
      this.#o.logger?.warn({ err, reference }, 'login failed');
      return loginFailedPage(err.code, reference);
    }
  }
}

/** Path of the admin login cookie: only the admin sign-in pages need it. */
const ADMIN_LOGIN_PATH = '/.postern/admin/';

function loginCookieName(kind: PendingLogin['kind']): string {
  return kind === 'admin' ? ADMIN_LOGIN_COOKIE : LOGIN_COOKIE;
}

/**
 * The Set-Cookie of a login's state. The admin listener is often plain http on loopback, where a
 * `__Host-` (Secure) cookie would be dropped, so admin logins use their own cookie, Secure only
 * over TLS.
 */
function loginCookie(
  kind: PendingLogin['kind'],
  secure: boolean,
  value: string,
  maxAgeSeconds: number,
): string {
  if (kind !== 'admin') return cookie(LOGIN_COOKIE, value, maxAgeSeconds);
  const flags = `Path=${ADMIN_LOGIN_PATH}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  return `${ADMIN_LOGIN_COOKIE}=${value}; ${flags}; Max-Age=${maxAgeSeconds}`;
}

/** The request's path and query when it is a safe place to return to, else `/`. */
export function safeReturnPath(target: string): string {
  // Only a same-origin path: "//host" and "/\host" would leave the site in some browsers.
  if (!target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) return '/';
  if (target.startsWith('/.postern/')) return '/';
  // Request targets never hold raw whitespace or control characters; reject rather than judge.
  return [...target].some((c) => c.charCodeAt(0) <= 0x20) ? '/' : target;
}
