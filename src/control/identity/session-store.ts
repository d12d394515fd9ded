import { SessionEnds } from './session-ends.js';
import type { UserIdentity } from './user-identity.js';

/** A logged-in browser on one https virtual server. */
export interface BrowserSession {
  /** Key of the session in the store: a hash of the cookie value, never the cookie itself. */
  readonly key: string;
  readonly identity: UserIdentity;
  /** The virtual server whose host the (host-only) cookie belongs to. */
  readonly virtualServer: string;
  /** When the user logged in to Postern (ms since the epoch); revocations compare with it. */
  readonly authenticatedAt: number;
  /**
   * When the identity provider really authenticated the user (its `auth_time`, ms), which an
   * existing provider session can put long before the Postern login: the reauthentication
   * deadline runs from it. Absent when the provider did not say.
   */
  readonly authTime?: number | undefined;
  /** Last request seen on the session (ms since the epoch), for the idle timeout. */
  readonly lastSeenAt: number;
  /**
   * The login's ID token, sent as `id_token_hint` when the logout goes on to the provider's
   * (kept only when the provider has an `end_session_endpoint`; it goes with the session).
   */
  readonly idToken?: string | undefined;
}

/** A login sent to the identity provider and not yet back: what the callback must check. */
export interface PendingLogin {
  /** Key in the store: a hash of the `state` parameter. */
  readonly key: string;
  /** admin: a console sign-in on the admin listener (see AdminSignIn); device: the page approving `postern login --device`. */
  readonly kind: 'browser' | 'cli' | 'admin' | 'device';
  readonly identityProvider: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** The redirect_uri sent to the provider; the callback URL is rebuilt from it. */
  readonly redirectUri: string;
  /** browser: the virtual server the login started on. */
  readonly virtualServer?: string | undefined;
  /** browser, device: path and query to return to; cli: the localhost callback URL. */
  readonly returnTo: string;
  /** cli: the state the CLI chose, echoed back to its callback. */
  readonly clientState?: string | undefined;
  readonly expiresAt: number;
}

/**
 * Where browser sessions and pending logins live. One interface so that an HA deployment can
 * keep them in a shared store (every edge must see a logout at once); the edge ships the
 * in-memory one. Keys are hashes, so a store dump does not hold usable cookies.
 */
export interface SessionStore {
  createSession(session: BrowserSession): Promise<void>;
  getSession(key: string): Promise<BrowserSession | undefined>;
  /** Records activity; a no-op for a session that no longer exists. */
  touchSession(key: string, at: number): Promise<void>;
  /** Ends a session for good: a replayed cookie finds nothing. */
  deleteSession(key: string): Promise<void>;
  putPendingLogin(login: PendingLogin): Promise<void>;
  /** Returns and removes a pending login, so a state can be used once. */
  takePendingLogin(key: string): Promise<PendingLogin | undefined>;
  /**
   * When the user's sessions start to count again after an admin revoked them (ms), or
   * undefined; stores without revocations (the in-memory one) leave it out.
   */
  userNotBefore?(user: {
    readonly idp: string;
    readonly subject: string;
  }): Promise<number | undefined>;
  /**
   * The sessions announced ended since a mark, so open WebSockets of an ended (or revoked)
   * session close at once; a store without it leaves them to the periodic full re-check.
   */
  readonly ends?: SessionEnds | undefined;
}

/** Limits of the in-memory store. */
export interface MemorySessionStoreOptions {
  /** Sessions kept at most; the least recently used go first. Default 100000. */
  readonly maxSessions?: number;
  /** Pending logins kept at most; the oldest go first. Default 10000. */
  readonly maxPendingLogins?: number;
}

/** Sessions and pending logins in this process's memory (lost on restart). */
export class MemorySessionStore implements SessionStore {
  // Maps iterate in insertion order; re-inserting on touch keeps the least recently used first.
  readonly #sessions = new Map<string, BrowserSession>();
  readonly #pending = new Map<string, PendingLogin>();
  readonly #maxSessions: number;
  readonly #maxPending: number;
  /** Sessions ended by {@link deleteSession}, for prompt WebSocket re-checks. */
  readonly ends = new SessionEnds();

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#maxSessions = options.maxSessions ?? 100_000;
    this.#maxPending = options.maxPendingLogins ?? 10_000;
  }

  /** Number of sessions held (for tests and metrics). */
  get size(): number {
    return this.#sessions.size;
  }

  createSession(session: BrowserSession): Promise<void> {
    this.#sessions.set(session.key, session);
    evict(this.#sessions, this.#maxSessions);
    return Promise.resolve();
  }

  getSession(key: string): Promise<BrowserSession | undefined> {
    return Promise.resolve(this.#sessions.get(key));
  }

  touchSession(key: string, at: number): Promise<void> {
    const session = this.#sessions.get(key);
    if (session) {
      this.#sessions.delete(key);
      this.#sessions.set(key, { ...session, lastSeenAt: Math.max(at, session.lastSeenAt) });
    }
    return Promise.resolve();
  }

  deleteSession(key: string): Promise<void> {
    this.#sessions.delete(key);
    this.ends.ended(key);
    return Promise.resolve();
  }

  putPendingLogin(login: PendingLogin): Promise<void> {
    this.#pending.set(login.key, login);
    evict(this.#pending, this.#maxPending);
    return Promise.resolve();
  }

  takePendingLogin(key: string): Promise<PendingLogin | undefined> {
    const login = this.#pending.get(key);
    this.#pending.delete(key);
    return Promise.resolve(login);
  }

  /** Drops sessions and pending logins that can no longer be used. */
  sweep(isExpired: (session: BrowserSession) => boolean, now: number): void {
    for (const [key, s] of this.#sessions) if (isExpired(s)) this.#sessions.delete(key);
    for (const [key, p] of this.#pending) if (p.expiresAt <= now) this.#pending.delete(key);
  }
}

function evict<V>(map: Map<string, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}
