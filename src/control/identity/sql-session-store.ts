import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../core/index.js';
import type { JsonValue, Store, StoreChange } from '../../store/index.js';
import type { SessionTimeouts } from './browser-session.js';
import { SessionEnds } from './session-ends.js';
import type { BrowserSession, PendingLogin, SessionStore } from './session-store.js';
import type { UserIdentity } from './user-identity.js';
import {
  SESSION_END_TOPIC_PREFIX,
  UserRevocations,
  announceSessionEnd,
  type UserRef,
} from './user-revocations.js';

export { SESSION_END_TOPIC_PREFIX } from './user-revocations.js';

/** How a {@link SqlSessionStore} caches and sweeps. */
export interface SqlSessionStoreOptions {
  /**
   * Longest a cached session is used without reading the store again, in ms; default 2000. It
   * bounds how long a logout on another edge can go unnoticed here when the change
   * notification is lost (with it, the cache entry goes at once).
   */
  readonly revalidateMs?: number | undefined;
  /** Sessions cached at most; the least recently used go first. Default 10000. */
  readonly maxCached?: number | undefined;
  /** Sessions authenticated longer ago than this are swept whatever their server; default 30 days (the longest reauthentication timeout). */
  readonly maxSessionAgeMs?: number | undefined;
  /** Announces session ends as this origin; default 'sessions'. */
  readonly origin?: string | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
}

interface Cached {
  readonly session: BrowserSession;
  /** Monotonic time of the store read (or write) the entry reflects. */
  readonly readAt: number;
}

/**
 * Browser sessions and pending logins in the shared store, so that every edge of an HA set
 * accepts a session made on any of them and a logout on one ends it on all. A small read
 * cache saves a store query per request; it never holds a session the store no longer has for
 * longer than `revalidateMs`, and a logout through this edge drops its entry at once. Misses
 * are never cached, so a session made on another edge is found at its first request here.
 * When the store cannot be read, the read fails (the request is refused), never served stale.
 */
export class SqlSessionStore implements SessionStore {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #revalidateMs: number;
  readonly #maxCached: number;
  readonly #maxAgeMs: number;
  readonly #origin: string;
  readonly #log: Logger | undefined;
  readonly #cache = new Map<string, Cached>();
  /** Bumped on every invalidation, so a store read that raced a logout is not cached. */
  #epoch = 0;
  readonly #unsubscribe: () => void;
  /** Admins' per-user revocations, which end sessions made before them. */
  readonly revocations: UserRevocations;
  /** Sessions ended here or announced ended by other edges, for prompt WebSocket re-checks. */
  readonly ends = new SessionEnds();

  constructor(store: Store, options: SqlSessionStoreOptions = {}) {
    this.#store = store;
    this.#clock = options.clock ?? systemClock;
    this.#revalidateMs = options.revalidateMs ?? 2000;
    this.#maxCached = options.maxCached ?? 10_000;
    this.#maxAgeMs = options.maxSessionAgeMs ?? 2_592_000_000;
    this.#origin = options.origin ?? 'sessions';
    this.#log = options.logger;
    this.#unsubscribe = store.changes.subscribe((change) => this.#onChange(change));
    this.revocations = new UserRevocations(store, {
      clock: this.#clock,
      cacheMs: this.#revalidateMs,
    });
  }

  /** Sessions held in the read cache (for tests and metrics). */
  get cached(): number {
    return this.#cache.size;
  }

  async createSession(session: BrowserSession): Promise<void> {
    await this.#store.sessions.createSession({
      key: session.key,
      virtualServer: session.virtualServer,
      identity: session.identity as unknown as JsonValue,
      authenticatedAt: session.authenticatedAt,
      lastSeenAt: session.lastSeenAt,
      authTime: session.authTime,
      idToken: session.idToken,
    });
    this.#remember(session, this.#clock.monotonic());
  }

  async getSession(key: string): Promise<BrowserSession | undefined> {
    const now = this.#clock.monotonic();
    const hit = this.#cache.get(key);
    if (hit && now - hit.readAt < this.#revalidateMs) {
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit.session;
    }
    const epoch = this.#epoch;
    const stored = await this.#store.sessions.getSession(key);
    if (stored === undefined) {
      this.#cache.delete(key);
      return undefined;
    }
    const session: BrowserSession = {
      key: stored.key,
      virtualServer: stored.virtualServer,
      identity: stored.identity as unknown as UserIdentity,
      authenticatedAt: stored.authenticatedAt,
      lastSeenAt: stored.lastSeenAt,
      ...(stored.authTime === undefined ? {} : { authTime: stored.authTime }),
      ...(stored.idToken === undefined ? {} : { idToken: stored.idToken }),
    };
    // A logout that finished while we read must not be undone by caching what we read.
    if (epoch === this.#epoch) this.#remember(session, now);
    return session;
  }

  async touchSession(key: string, at: number): Promise<void> {
    await this.#store.sessions.touchSession(key, at);
    const hit = this.#cache.get(key);
    if (hit && at > hit.session.lastSeenAt) {
      this.#cache.set(key, { ...hit, session: { ...hit.session, lastSeenAt: at } });
    }
  }

  async deleteSession(key: string): Promise<void> {
    this.#invalidate(key);
    await this.#store.sessions.deleteSession(key);
    this.#invalidate(key);
    await this.#announceEnd(key);
  }

  userNotBefore(user: UserRef): Promise<number | undefined> {
    return this.revocations.notBefore(user);
  }

  async #announceEnd(key: string): Promise<void> {
    // Other edges drop their cache entry now rather than at their next revalidation.
    await announceSessionEnd(this.#store.changes, key, this.#origin).catch((err: unknown) =>
      this.#log?.warn({ err: (err as Error).message }, 'could not announce a session end'),
    );
  }

  async putPendingLogin(login: PendingLogin): Promise<void> {
    await this.#store.sessions.putPendingLogin({
      key: login.key,
      login: JSON.parse(JSON.stringify(login)) as JsonValue,
      expiresAt: login.expiresAt,
    });
  }

  async takePendingLogin(key: string): Promise<PendingLogin | undefined> {
    const stored = await this.#store.sessions.takePendingLogin(key);
    return stored && (stored.login as unknown as PendingLogin);
  }

  /**
   * Deletes expired pending logins, sessions older than `maxSessionAgeMs`, and sessions of the
   * servers in `timeouts` that are past their idle or reauthentication timeout.
   */
  async sweep(timeouts: ReadonlyMap<string, SessionTimeouts>): Promise<number> {
    const now = this.#clock.now();
    const servers = [...timeouts].map(([virtualServer, t]) => ({
      virtualServer,
      authenticatedBefore: now - t.reauthenticationTimeoutMs,
      ...(t.idleTimeoutMs > 0 ? { lastSeenBefore: now - t.idleTimeoutMs } : {}),
    }));
    const swept = await this.#store.sessions.sweep({
      now,
      authenticatedBefore: now - this.#maxAgeMs,
      servers,
    });
    return swept.sessions + swept.pendingLogins;
  }

  /** Stops following session ends announced by other edges. */
  close(): void {
    this.#unsubscribe();
    this.#cache.clear();
    this.revocations.close();
  }

  #onChange(change: StoreChange): void {
    if (change.topic.startsWith(SESSION_END_TOPIC_PREFIX)) {
      this.#invalidate(change.topic.slice(SESSION_END_TOPIC_PREFIX.length));
    } else if (change.topic === 'resync') {
      // Notifications may have been lost: revalidate everything on its next use.
      this.#epoch += 1;
      this.#cache.clear();
      this.ends.lost();
    }
  }

  #invalidate(key: string): void {
    this.#epoch += 1;
    this.#cache.delete(key);
    this.ends.ended(key);
  }

  #remember(session: BrowserSession, readAt: number): void {
    this.#cache.delete(session.key);
    this.#cache.set(session.key, { session, readAt });
    for (const key of this.#cache.keys()) {
      if (this.#cache.size <= this.#maxCached) break;
      this.#cache.delete(key);
    }
  }
}
