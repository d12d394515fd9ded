// Test support: a Clock whose time moves only when a test says so. Used by the health, discovery,
// persistence and pool tests; no production code imports it.
import type { Clock, TimerHandle } from '../../core/index.js';

interface Timer extends TimerHandle {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A manual clock: `advance(ms)` fires due timers in time order. */
export class FakeClock implements Clock {
  #now = 1_700_000_000_000;
  #seq = 0;
  #timers = new Set<Timer>();

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#now - 1_700_000_000_000;
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
