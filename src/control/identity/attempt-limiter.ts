import type { Clock } from '../../core/index.js';

/** How an {@link AttemptLimiter} counts. */
export interface AttemptLimiterOptions {
  /** Failures allowed per key within `windowMs`; the next attempt is refused. Default 5. */
  readonly maxFailures?: number | undefined;
  /** How long failures count (and a lock lasts); default 15 min. */
  readonly windowMs?: number | undefined;
  /** Keys tracked at most; the oldest go first. Default 10000. */
  readonly maxKeys?: number | undefined;
}

interface Entry {
  failures: number;
  since: number;
}

/**
 * Counts attempts per key — a session, a client address — and locks a key once it counted
 * `maxFailures` within `windowMs`: failed attempts, or every attempt of a kind that is
 * rate-limited. Kept in this edge's memory, so it limits one edge only: the device login uses it
 * just for its per-edge cap on starts, and counts wrong codes and starts per address in the
 * shared store (SharedAttemptLimit) so that those limits hold for an HA set as a whole.
 */
export class AttemptLimiter {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #entries = new Map<string, Entry>();

  constructor(clock: Clock, options: AttemptLimiterOptions = {}) {
    this.#clock = clock;
    this.#max = options.maxFailures ?? 5;
    this.#windowMs = options.windowMs ?? 900_000;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  /** Whether any of `keys` is locked now. */
  locked(keys: readonly string[]): boolean {
    return keys.some((key) => (this.#current(key)?.failures ?? 0) >= this.#max);
  }

  /** How long until every locked key among `keys` is free again; 0 when none is locked. */
  retryAfterMs(keys: readonly string[]): number {
    const now = this.#clock.monotonic();
    let wait = 0;
    for (const key of keys) {
      const entry = this.#current(key);
      if (entry && entry.failures >= this.#max) {
        wait = Math.max(wait, entry.since + this.#windowMs - now);
      }
    }
    return wait;
  }

  /** Counts one attempt (a failure, or any attempt of a rate-limited kind) against every key. */
  fail(keys: readonly string[]): void {
    const now = this.#clock.monotonic();
    for (const key of keys) {
      const entry = this.#current(key) ?? { failures: 0, since: now };
      entry.failures += 1;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxKeys) break;
      this.#entries.delete(key);
    }
  }

  #current(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && this.#clock.monotonic() - entry.since >= this.#windowMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
