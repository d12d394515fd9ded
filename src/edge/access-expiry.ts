import type { Clock, TimerHandle } from '../core/index.js';

/** Host timers fire at once beyond 2^31-1 ms, so no wait may be longer. */
const HOST_TIMER_LIMIT_MS = 2 ** 31 - 1;

/** How an {@link AccessExpiry} keeps time. */
export interface AccessExpiryOptions {
  readonly clock: Clock;
  /**
   * Longest wait before the timer re-reads the clock; default 60 s. Expiries are wall-clock times
   * but timers run on elapsed time, so this bounds how late a clock step can make a cut.
   */
  readonly maxWaitMs?: number;
}

/**
 * Ends access sessions when the token that authorized them expires. Sessions are grouped by
 * deadline (token `exp` is whole seconds, and one user's sessions share a token), the distinct
 * deadlines sit in a min-heap, and one clock timer is armed for the earliest: thousands of
 * sessions cost one timer, and each expiry fires every session of its deadline in one pass.
 */
export class AccessExpiry {
  readonly #clock: Clock;
  readonly #maxWaitMs: number;
  /** Callbacks by deadline (ms since the epoch). */
  readonly #due = new Map<number, Set<() => void>>();
  /** Distinct deadlines, earliest first; may hold deadlines whose sessions all ended (lazy). */
  readonly #heap: number[] = [];
  #timer: TimerHandle | undefined;
  #armedFor: number | undefined;
  #size = 0;

  constructor(options: AccessExpiryOptions) {
    this.#clock = options.clock;
    this.#maxWaitMs = Math.max(1, Math.min(options.maxWaitMs ?? 60_000, HOST_TIMER_LIMIT_MS));
  }

  /** Sessions being watched. */
  get size(): number {
    return this.#size;
  }

  /**
   * Calls `onExpired` once the clock reaches `expiresAt` (ms since the epoch; at once, from the
   * timer, when it has passed). Returns a function that stops watching; calling it again, or
   * after the expiry fired, does nothing. `onExpired` must not throw.
   */
  watch(expiresAt: number, onExpired: () => void): () => void {
    let group = this.#due.get(expiresAt);
    if (group === undefined) {
      group = new Set();
      this.#due.set(expiresAt, group);
      push(this.#heap, expiresAt);
    }
    // A wrapper per watch, so the same function watched twice is two sessions.
    const entry = (): void => onExpired();
    group.add(entry);
    this.#size += 1;
    if (this.#armedFor === undefined || expiresAt < this.#armedFor) this.#arm();
    return () => this.#unwatch(expiresAt, entry);
  }

  /** Stops the timer and forgets every session without calling them. */
  close(): void {
    this.#disarm();
    this.#due.clear();
    this.#heap.length = 0;
    this.#size = 0;
  }

  #unwatch(expiresAt: number, entry: () => void): void {
    const group = this.#due.get(expiresAt);
    if (group === undefined || !group.delete(entry)) return;
    this.#size -= 1;
    if (group.size > 0) return;
    this.#due.delete(expiresAt);
    // The heap keeps the stale deadline; rebuild it when stale ones outnumber the live ones.
    if (this.#heap.length > 2 * this.#due.size + 64) this.#rebuild();
    if (this.#due.size === 0) this.#disarm();
  }

  #rebuild(): void {
    this.#heap.length = 0;
    for (const deadline of this.#due.keys()) push(this.#heap, deadline);
  }

  /** Arms the one timer for the earliest live deadline, or none when nothing is watched. */
  #arm(): void {
    this.#disarm();
    while (this.#heap.length > 0 && !this.#due.has(this.#heap[0]!)) pop(this.#heap);
    const next = this.#heap[0];
    if (next === undefined) return;
    const wait = Math.min(Math.max(0, next - this.#clock.now()), this.#maxWaitMs);
    this.#armedFor = next;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), wait);
    this.#timer.unref?.();
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = undefined;
  }

  /** Runs every session whose deadline has come, earliest first, then re-arms. */
  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = undefined;
    const now = this.#clock.now();
    const expired: (() => void)[] = [];
    while (this.#heap.length > 0 && this.#heap[0]! <= now) {
      const deadline = pop(this.#heap)!;
      const group = this.#due.get(deadline);
      if (group === undefined) continue;
      this.#due.delete(deadline);
      this.#size -= group.size;
      for (const onExpired of group) expired.push(onExpired);
    }
    // Re-arm first: a callback that watches again (or ends other sessions) sees a sound state.
    this.#arm();
    for (const onExpired of expired) onExpired();
  }
}

function push(heap: number[], value: number): void {
  heap.push(value);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= value) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = value;
}

function pop(heap: number[]): number | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
    if (heap[child]! >= last) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
  return top;
}
