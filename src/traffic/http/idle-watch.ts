import type { Clock, TimerHandle } from '../../core/index.js';

/**
 * Calls `onIdle` once nothing has happened for `ms` (activity is reported with `touch`), unless
 * `paused`. Uses one timer that re-arms lazily instead of resetting a timer for every chunk.
 */
export class IdleWatch {
  /** While true (waiting on the client's backpressure), idleness does not count. */
  paused = false;
  readonly #clock: Clock;
  readonly #ms: number;
  readonly #onIdle: () => void;
  #timer: TimerHandle | undefined;
  #last = 0;

  constructor(clock: Clock, ms: number, onIdle: () => void) {
    this.#clock = clock;
    this.#ms = ms;
    this.#onIdle = onIdle;
  }

  /** Records activity now. */
  touch(): void {
    this.#last = this.#clock.monotonic();
  }

  /** Starts watching (if not already) from now; a timeout of 0 never fires. */
  start(): void {
    if (this.#ms <= 0) return; // idle_timeout_ms 0: never
    this.touch();
    this.#timer ??= this.#clock.setTimeout(() => this.#fire(), this.#ms);
  }

  /** Stops watching. */
  stop(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): void {
    this.#timer = undefined;
    const idle = this.#clock.monotonic() - this.#last;
    if (this.paused || idle < this.#ms) {
      const wait = this.paused ? this.#ms : this.#ms - idle;
      this.#timer = this.#clock.setTimeout(() => this.#fire(), wait);
      return;
    }
    this.#onIdle();
  }
}
