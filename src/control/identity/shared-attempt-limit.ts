import type { Clock } from '../../core/index.js';
import type { DeviceAttemptRepository } from '../../store/index.js';

/** How a {@link SharedAttemptLimit} counts. */
export interface SharedAttemptLimitOptions {
  /** Names what is counted; keys are stored as `<kind>:<key>`. */
  readonly kind: string;
  /** Attempts allowed per key within `windowMs`; the next one is refused. */
  readonly max: number;
  /** How long attempts count (and a lock lasts), from a key's first attempt. */
  readonly windowMs: number;
  /** Locked keys this edge remembers at most; the oldest go first. Default 10000. */
  readonly maxKnownLocks?: number | undefined;
}

/**
 * A limit of attempts per key (a session, a client address) counted in the shared store, so
 * every edge of an HA set counts in the same fixed window and N edges allow no more attempts
 * than one. An attempt is counted before it is tried (one atomic statement), so edges racing
 * cannot slip past the limit; one that turns out right is refunded. Keys found locked are
 * remembered here until their window ends, so a locked-out client costs no store writes.
 * Store failures are thrown: callers refuse the attempt (fail closed).
 */
export class SharedAttemptLimit {
  readonly #repository: DeviceAttemptRepository;
  readonly #clock: Clock;
  readonly #o: SharedAttemptLimitOptions;
  /** Locked keys and when their window ends (wall-clock, as in the store). */
  readonly #locked = new Map<string, number>();

  constructor(
    repository: DeviceAttemptRepository,
    clock: Clock,
    options: SharedAttemptLimitOptions,
  ) {
    this.#repository = repository;
    this.#clock = clock;
    this.#o = options;
  }

  /** Counts an attempt against every key; false when a key is over the limit (refuse it). */
  async attempt(keys: readonly string[]): Promise<boolean> {
    const now = this.#clock.now();
    if (keys.some((key) => this.#knownLocked(key, now))) return false;
    let allowed = true;
    for (const key of keys) {
      const count = await this.#repository.increment(this.#key(key), {
        at: now,
        windowMs: this.#o.windowMs,
      });
      if (count.attempts > this.#o.max) {
        this.#remember(key, count.expiresAt);
        allowed = false;
      }
    }
    return allowed;
  }

  /** Takes back an allowed attempt that succeeded (a right code), so only failures count. */
  async refund(keys: readonly string[]): Promise<void> {
    const now = this.#clock.now();
    for (const key of keys) await this.#repository.refund(this.#key(key), now);
  }

  /** Deletes counters of every edge whose window ended; returns how many went. */
  sweep(): Promise<number> {
    return this.#repository.sweep(this.#clock.now());
  }

  #key(key: string): string {
    return `${this.#o.kind}:${key}`;
  }

  #knownLocked(key: string, now: number): boolean {
    const until = this.#locked.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#locked.delete(key);
    return false;
  }

  #remember(key: string, until: number): void {
    this.#locked.delete(key);
    this.#locked.set(key, until);
    for (const oldest of this.#locked.keys()) {
      if (this.#locked.size <= (this.#o.maxKnownLocks ?? 10_000)) break;
      this.#locked.delete(oldest);
    }
  }
}
