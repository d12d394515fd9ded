import type { BrowserAccess as BrowserAccessSettings } from '../../config/index.js';
import type { Clock } from '../../core/index.js';
import type {
  AccessGate,
  AccessGateAllow,
  AccessGateReason,
  AccessGateRequest,
  AccessGateRespond,
  AccessGateResult,
} from '../../traffic/index.js';
import type { AccessDecision, PolicyEngine } from '../policy/index.js';
import { deniedPage, htmlPage, type AuthResponse } from './auth-html.js';
import { AUTH_PATHS, type AuthPages, type AuthRequest } from './auth-pages.js';
import { readCookie, secretKey, sessionCookieName, type SessionMiss } from './browser-session.js';
import type { BrowserSession } from './session-store.js';
import type { UserTokenAuthority } from './user-token.js';

/** One access decision, as reported for the user activity log. */
export interface AccessDecisionEntry {
  /** ISO 8601. */
  readonly time: string;
  readonly user: string;
  readonly groups: readonly string[];
  readonly client_type: 'browser';
  readonly source: string;
  readonly virtual_server: string;
  readonly rule: string | null;
  readonly action: 'allow' | 'deny';
  readonly reason: string;
}

/**
 * Identity headers the gate sets. The traffic layer removes every client X-Postern-* field and
 * Postern's cookies from every request on every http/https virtual server, gated or not; the gate
 * removes its own names again so that its values are the only ones whatever runs before it.
 */
export const IDENTITY_HEADERS = {
  user: 'X-Postern-User',
  email: 'X-Postern-Email',
  groups: 'X-Postern-Groups',
  assertion: 'X-Postern-Assertion',
} as const;

const REMOVE = Object.values(IDENTITY_HEADERS).map((h) => h.toLowerCase());
const ASSERTION_TTL_MS = 300_000;
const ASSERTION_RENEW_MS = 60_000;
const MAX_CACHED = 10_000;

/** Close reason of an open connection whose access the policy in force no longer allows. */
export const ACCESS_REVOKED_REASON = 'access_revoked';
/** Close reason of an open connection whose browser session ended (logout, timeout, deleted). */
export const SESSION_ENDED_REASON = 'session_ended';

/** What a gate for one virtual server needs. */
export interface BrowserAccessGateOptions {
  readonly virtualServer: string;
  readonly access: BrowserAccessSettings | undefined;
  readonly engine: PolicyEngine;
  readonly pages: AuthPages;
  readonly authority: UserTokenAuthority;
  readonly clock: Clock;
  readonly onDecision?: ((entry: AccessDecisionEntry) => void) | undefined;
  /**
   * How often each open upgraded connection (WebSocket) is fully re-checked between
   * configuration changes (its session read from the store, which counts as use), so that an
   * ended session ends it; default 30 s.
   */
  readonly recheckIntervalMs?: number | undefined;
  /**
   * How often open upgraded connections are asked whether their session was announced ended
   * (a logout, a revocation, on any edge sharing the store) without reading the store; such a
   * connection is fully re-checked at once. Default 1 s; only when the session store tells of
   * ends (both shipped stores do).
   */
  readonly endCheckIntervalMs?: number | undefined;
}

/** What a gate remembers of an open upgraded connection's last full re-check. */
interface Watched {
  /** The session key its cookie names ('' without one). */
  readonly key: string;
  /** The session-end mark taken before that re-check. */
  readonly mark: number;
  /** Monotonic time of that re-check. */
  readonly at: number;
}

interface Cached {
  readonly decision: AccessDecision;
  /** The session decided for: a re-check whose session is gone asks whether its user was revoked. */
  readonly session: BrowserSession;
  assertion?: { readonly token: string; readonly expiresAt: number };
}

/**
 * The access gate of one https virtual server in one configuration generation: answers
 * `/.postern/*`, sends browsers without a session to the identity provider, asks the policy
 * engine once per session (reporting each decision), and adds the identity headers and the
 * signed assertion to allowed requests.
 */
export class BrowserAccessGate implements AccessGate {
  readonly #o: BrowserAccessGateOptions;
  // Decisions per session key, for this generation's policy; a new generation starts afresh.
  readonly #decisions = new Map<string, Cached>();
  /** How often the traffic layer asks about open upgraded connections (see {@link recheck}). */
  readonly recheckIntervalMs: number;
  /** How often each open upgraded connection is fully re-checked. */
  readonly #fullRecheckMs: number;
  /** Open upgraded connections by the request that opened them (the traffic layer keeps it). */
  readonly #watched = new WeakMap<AccessGateRequest, Watched>();

  constructor(options: BrowserAccessGateOptions) {
    this.#o = options;
    this.#fullRecheckMs = options.recheckIntervalMs ?? 30_000;
    const tellsEnds = options.pages.sessions.endMark() !== undefined;
    this.recheckIntervalMs = tellsEnds
      ? Math.min(options.endCheckIntervalMs ?? 1000, this.#fullRecheckMs)
      : this.#fullRecheckMs;
  }

  /**
   * Whether a connection opened by `request` (a WebSocket) may stay open under this gate's
   * settings and policy: undefined when it may, else the close reason — `session_ended` when
   * the session its cookie named is gone (logout, timeout), `access_revoked` when the policy
   * denies it now. Never starts a login; the check counts as use of the session. Between full
   * re-checks (`recheckIntervalMs`) it only asks, without reading the store, whether the session
   * was announced ended, and re-checks fully at once when it was.
   */
  async recheck(request: AccessGateRequest): Promise<string | undefined> {
    const access = this.#o.access;
    if (access === undefined || access.login === 'none') return undefined;
    const sessions = this.#o.pages.sessions;
    const now = this.#o.clock.monotonic();
    const seen = this.#watched.get(request);
    if (
      seen !== undefined &&
      now - seen.at < this.#fullRecheckMs &&
      !sessions.endedAfter(seen.key, seen.mark)
    ) {
      return undefined;
    }
    const secret = readCookie(request.headers.cookie, sessionCookieName(request.virtualServer));
    // The mark before the read: an end announced while the store is read is seen next time.
    const mark = sessions.endMark();
    if (mark !== undefined) {
      const key = secret === undefined ? '' : secretKey(secret);
      this.#watched.set(request, { key, mark, at: now });
    }
    const found = await this.#o.pages.sessions.check(secret, this.#o.virtualServer, {
      idleTimeoutMs: access.idle_timeout_ms,
      reauthenticationTimeoutMs: access.reauthentication_timeout_ms,
      // A session made with the provider the server named before is refused: log in again.
      identityProvider: access.identity_provider,
    });
    if ('miss' in found) return this.#endedReason(found.miss, secret, request);
    const cached = this.#decide(found.session, request);
    return cached.decision.action === 'allow' ? undefined : ACCESS_REVOKED_REASON;
  }

  /**
   * `access_revoked` when an admin revoked the user of the ended session (which also deletes it,
   * so the session decided for earlier is asked), else `session_ended`.
   */
  async #endedReason(
    miss: SessionMiss,
    secret: string | undefined,
    request: AccessGateRequest,
  ): Promise<string> {
    if (miss === 'revoked') return ACCESS_REVOKED_REASON;
    if (miss !== 'unknown' || secret === undefined) return SESSION_ENDED_REASON;
    const known = this.#decisions.get(`${secretKey(secret)}\0${request.clientIp}`);
    const revoked = known !== undefined && (await this.#o.pages.sessions.revoked(known.session));
    return revoked ? ACCESS_REVOKED_REASON : SESSION_ENDED_REASON;
  }

  async check(request: AccessGateRequest): Promise<AccessGateResult> {
    const auth: AuthRequest = { ...request, secure: true };
    if (request.target.startsWith('/.postern/')) {
      const page = await this.#o.pages.respond(auth);
      if (page) return loggedOut(request, page) ?? respond(page);
    }
    const access = this.#o.access;
    if (access === undefined || access.login === 'none') return { allow: true };
    const secret = readCookie(request.headers.cookie, sessionCookieName(request.virtualServer));
    const found = await this.#o.pages.sessions.check(secret, this.#o.virtualServer, {
      idleTimeoutMs: access.idle_timeout_ms,
      reauthenticationTimeoutMs: access.reauthentication_timeout_ms,
      // A session made with the provider the server named before is refused: log in again.
      identityProvider: access.identity_provider,
    });
    if ('miss' in found) return this.#login(auth, access);
    const cached = this.#decide(found.session, request);
    if (cached.decision.action === 'deny') {
      const id = found.session.identity;
      return respond(
        deniedPage({
          user: id.email ?? id.subject,
          groups: id.groups,
          virtualServer: this.#o.virtualServer,
          rule: cached.decision.rule,
          reason: cached.decision.reason,
        }),
        'access_denied',
      );
    }
    return this.#allow(found.session, cached, access);
  }

  async #login(request: AuthRequest, access: BrowserAccessSettings): Promise<AccessGateResult> {
    // Only a navigation can follow a redirect to a login page; scripts get a plain 401.
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return respond(
        htmlPage(401, 'Login required', ['Your session has ended; reload the page to log in.']),
        'login_required',
      );
    }
    const start = await this.#o.pages.startBrowserLogin(request, {
      virtualServer: this.#o.virtualServer,
      identityProvider: access.identity_provider ?? '',
    });
    return respond(start, loginStartReason(start.status));
  }

  #decide(session: BrowserSession, request: AccessGateRequest): Cached {
    const key = `${session.key}\0${request.clientIp}`;
    const known = this.#decisions.get(key);
    if (known) return known;
    const id = session.identity;
    const decision = this.#o.engine.decide({
      user: { subject: id.subject, email: id.email, groups: id.groups },
      clientType: 'browser',
      sourceIp: request.clientIp,
      virtualServer: this.#o.virtualServer,
    });
    this.#o.onDecision?.({
      time: new Date(this.#o.clock.now()).toISOString(),
      user: id.email ?? id.subject,
      groups: id.groups,
      client_type: 'browser',
      source: request.clientIp,
      virtual_server: this.#o.virtualServer,
      rule: decision.rule ?? null,
      action: decision.action,
      reason: decision.reason,
    });
    const cached: Cached = { decision, session };
    if (this.#decisions.size >= MAX_CACHED) this.#decisions.clear();
    this.#decisions.set(key, cached);
    return cached;
  }

  async #allow(
    session: BrowserSession,
    cached: Cached,
    access: BrowserAccessSettings,
  ): Promise<AccessGateAllow> {
    const headers: Record<string, string> = {};
    const id = session.identity;
    if (access.identity_headers) {
      headers[IDENTITY_HEADERS.user] = id.email ?? id.subject;
      if (id.email !== undefined) headers[IDENTITY_HEADERS.email] = id.email;
      headers[IDENTITY_HEADERS.groups] = id.groups.join(',');
    }
    if (access.assertion)
      headers[IDENTITY_HEADERS.assertion] = await this.#assertion(session, cached);
    return { allow: true, remove: REMOVE, headers };
  }

  async #assertion(session: BrowserSession, cached: Cached): Promise<string> {
    const now = this.#o.clock.now();
    const have = cached.assertion;
    if (have && have.expiresAt - now > ASSERTION_RENEW_MS) return have.token;
    const issued = await this.#o.authority.issue(session.identity, {
      audience: this.#o.virtualServer,
      ttlMs: ASSERTION_TTL_MS,
    });
    cached.assertion = issued;
    return issued.token;
  }
}

/** The gate's answer with `page`; its reason for the record, else the page's own. */
function respond(page: AuthResponse, reason = page.reason): AccessGateRespond {
  const { reason: _ignored, ...answer } = page;
  return { respond: answer, reason };
}

/**
 * Why a login start answered as it did: `rate_limited` (too many logins from the address),
 * `login_failed` (the provider could not be reached: the "Login failed" page), else
 * `login_required` (the redirect to the provider).
 */
function loginStartReason(status: number): AccessGateReason {
  if (status === 429) return 'rate_limited';
  return status >= 400 ? 'login_failed' : 'login_required';
}

/**
 * A logout's answer that also tells the traffic layer which open upgraded connections used the
 * session it ended (`endsConnections`, given the request that opened each), so that they close
 * at once with close reason `session_ended`; undefined for any other answer.
 */
function loggedOut(request: AccessGateRequest, page: AuthResponse): AccessGateResult | undefined {
  if (request.target.split('?')[0] !== AUTH_PATHS.logout || request.method !== 'POST') {
    return undefined;
  }
  // 200: the logged-out page; 303: on to the provider's logout. Anything else ended nothing.
  if (page.status !== 200 && page.status !== 303) return undefined;
  const secret = readCookie(request.headers.cookie, sessionCookieName(request.virtualServer));
  if (!secret) return undefined;
  const endsConnections = (opened: AccessGateRequest): boolean =>
    readCookie(opened.headers.cookie, sessionCookieName(opened.virtualServer)) === secret;
  return { ...respond(page, page.reason ?? 'logged_out'), endsConnections };
}

/** The gate of an https virtual server without browser access: it only serves the JWK set. */
export class JwksOnlyGate implements AccessGate {
  readonly #pages: AuthPages;
  readonly onlyPaths = ['/.postern/'] as const;

  constructor(pages: AuthPages) {
    this.#pages = pages;
  }

  async check(request: AccessGateRequest): Promise<AccessGateResult> {
    const path = request.target.split('?')[0];
    if (path !== AUTH_PATHS.jwks) return { allow: true };
    const page = await this.#pages.respond({ ...request, secure: true });
    return page ? respond(page) : { allow: true };
  }
}
