import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../core/index.js';
import type { BrowserSession, SessionStore } from './session-store.js';
import type { UserIdentity } from './user-identity.js';

/**
 * Start of every virtual server's session cookie name; `__Host-` makes browsers insist on Secure,
 * Path=/ and no Domain.
 */
export const SESSION_COOKIE_PREFIX = '__Host-postern-session-';
/** The session cookie of earlier versions, one for every virtual server of a host name. */
export const SESSION_COOKIE = '__Host-postern-session';
/**
 * Set by a logout for 10 minutes: the next login asks the provider for a fresh login
 * (`prompt=login`), so logging out and in again is not silently undone by the provider's session.
 */
export const LOGGED_OUT_COOKIE = '__Host-postern-logged-out';
/** How long a logout asks for a fresh login at the provider. */
export const LOGGED_OUT_SECONDS = 600;
/** Start of the cookie names that bind a login's state to the browser that started it (login CSRF protection). */
export const LOGIN_COOKIE_PREFIX = '__Host-postern-login-';
/** The login cookie of earlier versions, which held only the latest login's state. */
export const LOGIN_COOKIE = '__Host-postern-login';

/** How long a session may live, from a virtual server's `access` settings. */
export interface SessionTimeouts {
  /** 0 = never. */
  readonly idleTimeoutMs: number;
  readonly reauthenticationTimeoutMs: number;
}

/** What a session must meet on a virtual server now: its timeouts and its identity provider. */
export interface SessionRequirements extends SessionTimeouts {
  /**
   * The provider the virtual server names now: a session made with another one is refused and
   * ended (the user logs in again). Undefined: any provider.
   */
  readonly identityProvider?: string | undefined;
}

/** Why a cookie did not yield a usable session. */
export type SessionMiss =
  | 'none'
  | 'unknown'
  | 'other_server'
  | 'other_provider'
  | 'idle'
  | 'reauthenticate'
  /** An admin revoked the user's access after the session began. */
  | 'revoked';

// Recording every request would write to the store on each hit; a minute's resolution is
// plenty for idle timeouts of ten minutes and more.
const TOUCH_EVERY_MS = 60_000;

/** The store key of a secret (cookie value or state): its SHA-256, so the store holds no secrets. */
export function secretKey(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/**
 * The session cookie name of `virtualServer`. Browsers keep cookies per host name, not per port,
 * so virtual servers sharing a host name need their own names. Names are DNS labels, which are
 * cookie-name characters already; anything else is written as `_` and two hex digits per byte,
 * so different names never share a cookie.
 */
export function sessionCookieName(virtualServer: string): string {
  const safe = [...Buffer.from(virtualServer, 'utf8')]
    .map((b) => (/[a-z0-9-]/i.test(String.fromCharCode(b)) ? String.fromCharCode(b) : hex(b)))
    .join('');
  return `${SESSION_COOKIE_PREFIX}${safe}`;
}

function hex(byte: number): string {
  return `_${byte.toString(16).padStart(2, '0')}`;
}

/** A `Set-Cookie` value for a host-only, Secure, HttpOnly, SameSite=Lax cookie. */
export function cookie(name: string, value: string, maxAgeSeconds?: number): string {
  const age = maxAgeSeconds === undefined ? '' : `; Max-Age=${maxAgeSeconds}`;
  return `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax${age}`;
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Creates, checks and ends browser sessions in a {@link SessionStore}. */
export class BrowserSessions {
  readonly #store: SessionStore;
  readonly #clock: Clock;

  constructor(store: SessionStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /**
   * Starts a session; returns the cookie value (the only copy of the secret). `authTime` is when
   * the provider authenticated the user (its `auth_time`, ms): the reauthentication deadline runs
   * from it (never from a time after now). `idToken` is kept for the provider's logout.
   */
  async create(
    identity: UserIdentity,
    virtualServer: string,
    options: { readonly authTime?: number | undefined; readonly idToken?: string | undefined } = {},
  ): Promise<string> {
    const secret = randomBytes(32).toString('base64url');
    const now = this.#clock.now();
    const authTime = options.authTime === undefined ? undefined : Math.min(options.authTime, now);
    await this.#store.createSession({
      key: secretKey(secret),
      identity,
      virtualServer,
      authenticatedAt: now,
      lastSeenAt: now,
      ...(authTime === undefined ? {} : { authTime }),
      ...(options.idToken === undefined ? {} : { idToken: options.idToken }),
    });
    return secret;
  }

  /** Whether an admin revoked the session's user after the session began. */
  revoked(session: BrowserSession): Promise<boolean> {
    return this.revokedSince(session.identity, session.authenticatedAt);
  }

  /**
   * Whether an admin revoked `user`'s access after `issuedAt` (ms): credentials issued before
   * are refused. Cached by the store for a couple of seconds.
   */
  async revokedSince(
    user: { readonly idp: string; readonly subject: string },
    issuedAt: number,
  ): Promise<boolean> {
    const notBefore = await this.#store.userNotBefore?.({ idp: user.idp, subject: user.subject });
    return notBefore !== undefined && issuedAt < notBefore;
  }

  /**
   * The session a cookie value names on `virtualServer`, if it is still good; an expired one, or
   * one made with another identity provider than `required` names, is deleted, so it cannot come
   * back. Records the activity.
   */
  async check(
    secret: string | undefined,
    virtualServer: string,
    required: SessionRequirements,
  ): Promise<{ session: BrowserSession } | { miss: SessionMiss }> {
    if (!secret) return { miss: 'none' };
    const key = secretKey(secret);
    const session = await this.#store.getSession(key);
    if (!session) return { miss: 'unknown' };
    if (session.virtualServer !== virtualServer) return { miss: 'other_server' };
    const now = this.#clock.now();
    const miss =
      expiry(session, required, now) ??
      otherProvider(session, required) ??
      ((await this.revoked(session)) ? 'revoked' : undefined);
    if (miss) {
      await this.#store.deleteSession(key);
      return { miss };
    }
    if (now - session.lastSeenAt >= TOUCH_EVERY_MS) await this.#store.touchSession(key, now);
    return { session };
  }

  /** A mark for {@link endedAfter}; undefined when the store does not tell of session ends. */
  endMark(): number | undefined {
    return this.#store.ends?.mark();
  }

  /** Whether session `key` ended, or may have, since `mark` (true when the store cannot tell). */
  endedAfter(key: string, mark: number): boolean {
    return this.#store.ends?.endedAfter(key, mark) ?? true;
  }

  /** The session a cookie value names, unchecked (a logout reads whose it was). */
  async find(secret: string | undefined): Promise<BrowserSession | undefined> {
    return secret ? this.#store.getSession(secretKey(secret)) : undefined;
  }

  /** Ends the session a cookie value names, for good. */
  async end(secret: string | undefined): Promise<void> {
    if (secret) await this.#store.deleteSession(secretKey(secret));
  }
}

/** 'other_provider' when the session was made with another provider than `required` names. */
function otherProvider(
  session: BrowserSession,
  required: SessionRequirements,
): SessionMiss | undefined {
  const idp = required.identityProvider;
  // identity.idp is the provider that authenticated the user, stored with the session.
  return idp !== undefined && session.identity.idp !== idp ? 'other_provider' : undefined;
}

/** Why a session is over at `now`, or undefined while it is good. */
export function expiry(
  session: BrowserSession,
  timeouts: SessionTimeouts,
  now: number,
): SessionMiss | undefined {
  // From the provider's auth_time when known: a login on an old provider session ends sooner.
  const authenticated = Math.min(session.authenticatedAt, session.authTime ?? Infinity);
  if (now - authenticated >= timeouts.reauthenticationTimeoutMs) return 'reauthenticate';
  if (timeouts.idleTimeoutMs > 0 && now - session.lastSeenAt >= timeouts.idleTimeoutMs) {
    return 'idle';
  }
  return undefined;
}
