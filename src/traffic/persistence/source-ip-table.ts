import type { Clock } from '../../core/index.js';

interface Entry {
  address: string;
  expiresAt: number;
}

/** How to build a source-IP persistence table. */
export interface SourceIpTableOptions {
  /** How long an idle mapping lasts; each use restarts it. */
  readonly ttlMs: number;
  /** Most mappings kept; the least recently used go first. Default 100 000. */
  readonly maxEntries?: number;
  readonly clock: Clock;
}

/**
 * Maps a client IP to the node it was sent to, with a sliding TTL and a size bound. A Map keeps
 * insertion order, so re-inserting on use makes its first key the least recently used one:
 * eviction and expiry sweeps are O(1) per removed entry.
 */
export class SourceIpTable {
  #ttlMs: number;
  #maxEntries: number;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  constructor(options: SourceIpTableOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#clock = options.clock;
  }

  /** Number of mappings held (some may have expired but not yet been swept). */
  get size(): number {
    return this.#entries.size;
  }

  /** Applies new limits from a reloaded configuration; existing mappings stay. */
  configure(options: { ttlMs: number; maxEntries?: number }): void {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? this.#maxEntries;
    this.#trim(this.#clock.monotonic());
  }

  /** The node address `ip` is pinned to, refreshing its TTL; undefined when none or expired. */
  get(ip: string): string | undefined {
    const entry = this.#entries.get(ip);
    if (entry === undefined) return undefined;
    const now = this.#clock.monotonic();
    this.#entries.delete(ip);
    if (entry.expiresAt <= now) return undefined;
    entry.expiresAt = now + this.#ttlMs;
    this.#entries.set(ip, entry);
    return entry.address;
  }

  /** Pins `ip` to `address` for the TTL. */
  set(ip: string, address: string): void {
    const now = this.#clock.monotonic();
    this.#entries.delete(ip);
    this.#entries.set(ip, { address, expiresAt: now + this.#ttlMs });
    this.#trim(now);
  }

  /** Forgets the mapping of `ip`. */
  delete(ip: string): void {
    this.#entries.delete(ip);
  }

  /** Drops expired entries from the old end, then the oldest beyond the size bound. */
  #trim(now: number): void {
    for (const [ip, entry] of this.#entries) {
      if (entry.expiresAt > now && this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(ip);
    }
  }
}
