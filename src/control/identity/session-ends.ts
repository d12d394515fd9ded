/** How many ended session keys {@link SessionEnds} remembers; older ones count as "maybe ended". */
const DEFAULT_MAX_KEPT = 10_000;

/**
 * The sessions announced ended (on this edge or another, through the store's change
 * notifications), as marks: a re-check of an open WebSocket takes a mark, and asks at the next
 * tick whether its session ended after it. Cheap enough to ask every second for every open
 * WebSocket, so an ended or revoked session's WebSockets close at once instead of at the next
 * full re-check. When it cannot tell (the key was forgotten, notifications were lost), it says
 * "maybe ended", so the caller checks the store: never a missed end.
 */
export class SessionEnds {
  /** Sequence of the last recorded event. */
  #seq = 0;
  /** Ended keys with the sequence of their end, oldest first. */
  readonly #ended = new Map<string, number>();
  /** Ends up to this sequence may have been forgotten (or lost: a resync). */
  #unknownUpTo = 0;
  readonly #maxKept: number;

  constructor(options: { readonly maxKept?: number | undefined } = {}) {
    this.#maxKept = Math.max(1, options.maxKept ?? DEFAULT_MAX_KEPT);
  }

  /** A mark of now, for {@link endedAfter}. */
  mark(): number {
    return this.#seq;
  }

  /** Records that session `key` ended. */
  ended(key: string): void {
    this.#seq += 1;
    this.#ended.delete(key);
    this.#ended.set(key, this.#seq);
    for (const [old, seq] of this.#ended) {
      if (this.#ended.size <= this.#maxKept) break;
      this.#ended.delete(old);
      this.#unknownUpTo = Math.max(this.#unknownUpTo, seq);
    }
  }

  /** Records that ends may have gone unannounced (the change feed resynced): all may have ended. */
  lost(): void {
    this.#seq += 1;
    this.#unknownUpTo = this.#seq;
  }

  /** Whether session `key` ended, or may have, after `mark` was taken. */
  endedAfter(key: string, mark: number): boolean {
    if (this.#unknownUpTo > mark) return true;
    return (this.#ended.get(key) ?? 0) > mark;
  }
}
