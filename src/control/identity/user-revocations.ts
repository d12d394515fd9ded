import { systemClock, type Clock } from '../../core/index.js';
import type {
  ChangeFeed,
  SessionRepository,
  SettingsRepository,
  StoreChange,
} from '../../store/index.js';

/** The change-feed topic prefix that tells every edge a session ended (the key follows). */
export const SESSION_END_TOPIC_PREFIX = 'session-end:';
/** The change-feed topic prefix that tells every edge a user's access was revoked. */
export const USER_REVOKED_TOPIC_PREFIX = 'user-revoked:';
/** Prefix of the setting that holds one user's revocation. */
const SETTING_PREFIX = 'user-revocation:';

/** A user as identities name them: the identity provider's name and the subject. */
export interface UserRef {
  readonly idp: string;
  readonly subject: string;
}

/** One user's revocation: credentials issued before `notBefore` are refused. */
export interface UserRevocation extends UserRef {
  /** Ms since the epoch. */
  readonly notBefore: number;
}

/** How {@link UserRevocations} caches. */
export interface UserRevocationsOptions {
  /**
   * Longest a user's revocation time (or its absence) is used without reading the store again,
   * in ms; default 2000. A revocation announced on the change feed drops the entry at once.
   */
  readonly cacheMs?: number | undefined;
  /** Users cached at most; the least recently read go first. Default 10000. */
  readonly maxCached?: number | undefined;
  readonly clock?: Clock | undefined;
}

interface Cached {
  readonly notBefore: number | undefined;
  readonly readAt: number;
}

/** The setting name of a user's revocation (a separator no provider name holds). */
function settingName(user: UserRef): string {
  return `${SETTING_PREFIX}${JSON.stringify([user.idp, user.subject])}`;
}

/** Tells every edge (this one too) that the session `key` ended, so caches drop it. */
export function announceSessionEnd(
  changes: ChangeFeed,
  key: string,
  origin: string,
): Promise<void> {
  return changes.publish({ topic: `${SESSION_END_TOPIC_PREFIX}${key}`, origin });
}

/** What revoking a user changes in the shared store (a Store has all of it). */
export interface RevocationStores {
  readonly settings: SettingsRepository;
  readonly changes: ChangeFeed;
  readonly sessions: SessionRepository;
}

/** A user's stored revocation, or undefined when they were never revoked. */
export async function readRevocation(
  settings: SettingsRepository,
  user: UserRef,
): Promise<UserRevocation | undefined> {
  const value = (await settings.get(settingName(user))) as { notBefore?: unknown } | undefined;
  return typeof value?.notBefore === 'number'
    ? { idp: user.idp, subject: user.subject, notBefore: value.notBefore }
    : undefined;
}

/**
 * Revokes everything `user` holds, on every edge sharing the store: their CLI tokens and
 * browser sessions issued before now are refused (a "not before" time), and their sessions are
 * deleted with each end announced, so open WebSockets and `postern tcp` sessions are cut at the
 * edges' next re-check. Returns the revocation and how many sessions ended.
 */
export async function revokeUser(
  stores: RevocationStores,
  user: UserRef,
  options: { readonly clock?: Clock | undefined; readonly origin?: string | undefined } = {},
): Promise<UserRevocation & { readonly sessions: number }> {
  const revocation = {
    idp: user.idp,
    subject: user.subject,
    notBefore: (options.clock ?? systemClock).now(),
  };
  const name = settingName(user);
  // The not-before time first: a session made while the rows are deleted is refused anyway.
  await stores.settings.set(name, { ...revocation });
  const origin = options.origin ?? 'revocations';
  // Announcements are best effort: without them other edges notice within their cache time.
  await stores.changes
    .publish({ topic: `${USER_REVOKED_TOPIC_PREFIX}${name}`, origin })
    .catch(() => undefined);
  const keys = await stores.sessions.deleteUserSessions(user);
  for (const key of keys)
    await announceSessionEnd(stores.changes, key, origin).catch(() => undefined);
  return { ...revocation, sessions: keys.length };
}

/**
 * Per-user "not before" times in the shared store: an admin's revocation refuses every CLI token
 * and browser session of that user issued before it, on every edge. Reads are cached for a
 * couple of seconds (misses too: most users were never revoked), so the hot path does not read
 * the store per request.
 */
export class UserRevocations {
  readonly #settings: SettingsRepository;
  readonly #clock: Clock;
  readonly #cacheMs: number;
  readonly #maxCached: number;
  readonly #cache = new Map<string, Cached>();
  #epoch = 0;
  readonly #unsubscribe: () => void;

  constructor(
    store: { readonly settings: SettingsRepository; readonly changes: ChangeFeed },
    options: UserRevocationsOptions = {},
  ) {
    this.#settings = store.settings;
    this.#clock = options.clock ?? systemClock;
    this.#cacheMs = options.cacheMs ?? 2000;
    this.#maxCached = options.maxCached ?? 10_000;
    this.#unsubscribe = store.changes.subscribe((change) => this.#onChange(change));
  }

  /** The user's stored revocation, read from the store (not the cache). */
  async get(user: UserRef): Promise<UserRevocation | undefined> {
    return readRevocation(this.#settings, user);
  }

  /** When the user's credentials start to count again (ms), or undefined: never revoked. */
  async notBefore(user: UserRef): Promise<number | undefined> {
    const name = settingName(user);
    const now = this.#clock.monotonic();
    const hit = this.#cache.get(name);
    if (hit && now - hit.readAt < this.#cacheMs) return hit.notBefore;
    const epoch = this.#epoch;
    const notBefore = (await this.get(user))?.notBefore;
    // A revocation that arrived while we read must not be hidden by caching the older answer.
    if (epoch === this.#epoch) this.#remember(name, { notBefore, readAt: now });
    return notBefore;
  }

  /** Whether a credential of `user` issued at `issuedAt` (ms) was revoked since. */
  async revoked(user: UserRef, issuedAt: number): Promise<boolean> {
    const notBefore = await this.notBefore(user);
    return notBefore !== undefined && issuedAt < notBefore;
  }

  /** Stops following revocations announced by other edges. */
  close(): void {
    this.#unsubscribe();
    this.#cache.clear();
  }

  #onChange(change: StoreChange): void {
    if (change.topic.startsWith(USER_REVOKED_TOPIC_PREFIX)) {
      this.#forget(change.topic.slice(USER_REVOKED_TOPIC_PREFIX.length));
    } else if (change.topic === 'resync') {
      this.#epoch += 1;
      this.#cache.clear();
    }
  }

  #forget(name: string): void {
    this.#epoch += 1;
    this.#cache.delete(name);
  }

  #remember(name: string, entry: Cached): void {
    this.#cache.delete(name);
    this.#cache.set(name, entry);
    for (const key of this.#cache.keys()) {
      if (this.#cache.size <= this.#maxCached) break;
      this.#cache.delete(key);
    }
  }
}
