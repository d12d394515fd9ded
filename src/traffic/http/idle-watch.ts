import type { Clock, TimerHandle } from '../../core/index.js';

/**
 * The idle watches of one virtual server's requests, checked by one timer that ticks while any
 * is active (an eighth of the timeout, at least 25 ms) instead of a timer per request: a watch
 * fires between `ms` and `ms` plus one tick after the last activity; never when `ms` is 0.
 */
export class IdleWatches {
  readonly ms: number;
  readonly #clock: Clock;
  readonly #active = new Set<IdleWatch>();
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, ms: number) {
    this.#clock = clock;
    this.ms = ms;
  }

  /** Monotonic milliseconds. */
  now(): number {
    return this.#clock.monotonic();
  }

  add(watch: IdleWatch): void {
    if (this.ms <= 0) return; // idle_timeout_ms 0: never
    this.#active.add(watch);
    if (this.#timer === undefined) this.#timer = this.#arm();
  }

  delete(watch: IdleWatch): void {
    this.#active.delete(watch);
  }

  #arm(): TimerHandle {
    const handle = this.#clock.setTimeout(this.#tick, Math.max(25, Math.floor(this.ms / 8)));
    handle.unref?.();
    return handle;
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    const now = this.#clock.monotonic();
    for (const watch of this.#active) {
      if (!watch.paused && now - watch.last >= this.ms) {
        this.#active.delete(watch);
        watch.fire();
      }
    }
    if (this.#active.size > 0) this.#timer = this.#arm();
  };
}

/**
 * Calls `onIdle` once nothing has happened for the watches' `ms` (activity is reported with
 * `touch`), unless `paused`.
 */
export class IdleWatch {
  /** While true (waiting on the client's backpressure), idleness does not count. */
  paused = false;
  /** Monotonic time of the last activity. */
  last = 0;
  readonly #watches: IdleWatches;
  readonly #onIdle: () => void;

  constructor(watches: IdleWatches, onIdle: () => void) {
    this.#watches = watches;
    this.#onIdle = onIdle;
  }

  /** Records activity now. */
  touch(): void {
    this.last = this.#watches.now();
  }

  /** Starts watching (if not already) from now. */
  start(): void {
    this.touch();
    this.#watches.add(this);
  }

  /** Stops watching. */
  stop(): void {
    this.#watches.delete(this);
  }

  /** Called by the watches when the time is up. */
  fire(): void {
    this.#onIdle();
  }
}
