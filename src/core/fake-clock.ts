// Test support: a Clock whose time moves only when a test says so. Tests in every layer use it;
// no production code does.
import type { Clock, TimerHandle } from './clock.js';

interface Timer extends TimerHandle {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A manual clock: `advance(ms)` fires due timers in time order. */
export class FakeClock implements Clock {
  readonly #start: number;
  #now: number;
  #seq = 0;
  #timers = new Set<Timer>();

  /** Starts at `start` milliseconds since the epoch (default 2023-11-14T22:13:20Z). */
  constructor(start = 1_700_000_000_000) {
    this.#start = start;
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#now - this.#start;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as Timer);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing each timer that falls due, earliest first. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (let fired = 0; fired < 100_000; fired++) {
      let due: Timer | undefined;
      for (const t of this.#timers) {
        if (
          t.at <= end &&
          (due === undefined || t.at < due.at || (t.at === due.at && t.seq < due.seq))
        )
          due = t;
      }
      if (due === undefined) break;
      this.#timers.delete(due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = end;
  }
}
