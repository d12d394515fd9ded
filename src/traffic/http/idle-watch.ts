import type { Clock, TimerHandle } from '../../core/index.js';

/**
 * Checks the idle watches of one virtual server's exchanges with one timer, re-armed while any
 * watch is started: a timer per exchange cost a setTimeout and a clearTimeout per request. A
 * watch fires no earlier than its timeout and at most a sweep period (a quarter of the timeout,
 * 10 ms to 1 s) later.
 */
export class IdleSweeper {
  readonly #clock: Clock;
  readonly #ms: number;
  readonly #periodMs: number;
  readonly #watches = new Set<IdleWatch>();
  #timer: TimerHandle | undefined;

  /** `ms` is the idle timeout of every watch of this sweeper; 0 turns them off. */
  constructor(clock: Clock, ms: number) {
    this.#clock = clock;
    this.#ms = ms;
    this.#periodMs = Math.min(1000, Math.max(10, Math.floor(ms / 4)));
  }

  /** The idle timeout (ms); 0: never. */
  get ms(): number {
    return this.#ms;
  }

  /** Now, on the sweeper's clock. */
  now(): number {
    return this.#clock.monotonic();
  }

  /** Starts checking `watch`. */
  add(watch: IdleWatch): void {
    this.#watches.add(watch);
    if (this.#timer === undefined) this.#timer = this.#arm();
  }

  /** Stops checking `watch`. */
  delete(watch: IdleWatch): void {
    this.#watches.delete(watch);
  }

  #arm(): TimerHandle {
    const timer = this.#clock.setTimeout(() => this.#sweep(), this.#periodMs);
    timer.unref?.();
    return timer;
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = this.#clock.monotonic();
    for (const watch of this.#watches) {
      if (!watch.idleAt(now, this.#ms)) continue;
      this.#watches.delete(watch);
      watch.fire();
    }
    if (this.#watches.size > 0) this.#timer = this.#arm();
  }
}

/**
 * Calls `onIdle` once nothing has happened for the sweeper's timeout (activity is reported with
 * `touch`), unless `paused`.
 */
export class IdleWatch {
  /** While true (waiting on the client's backpressure), idleness does not count. */
  paused = false;
  readonly #sweeper: IdleSweeper;
  readonly #onIdle: () => void;
  #last = 0;

  constructor(sweeper: IdleSweeper, onIdle: () => void) {
    this.#sweeper = sweeper;
    this.#onIdle = onIdle;
  }

  /** Records activity now. */
  touch(): void {
    this.#last = this.#sweeper.now();
  }

  /** Records activity at `now` (a time the caller just read from the same clock). */
  touchAt(now: number): void {
    this.#last = now;
  }

  /** Starts watching from `now` (default: now); a timeout of 0 never fires. */
  start(now = this.#sweeper.now()): void {
    if (this.#sweeper.ms <= 0) return; // idle_timeout_ms 0: never
    this.#last = now;
    this.#sweeper.add(this);
  }

  /** Stops watching. */
  stop(): void {
    this.#sweeper.delete(this);
  }

  /** True when idle for `ms` at `now` (for the sweeper). */
  idleAt(now: number, ms: number): boolean {
    return !this.paused && now - this.#last >= ms;
  }

  /** Reports idleness (for the sweeper, which has stopped watching). */
  fire(): void {
    this.#onIdle();
  }
}
