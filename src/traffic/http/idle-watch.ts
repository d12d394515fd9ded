import type { Clock, TimerHandle } from '../../core/index.js';

/**
 * Checks the idle watches of one virtual server's exchanges with one timer, re-armed while any
 * watch is started: a timer per exchange cost a setTimeout and a clearTimeout per request. A
 * watch fires no earlier than its timeout and at most a sweep period (a quarter of the timeout,
 * 10 ms to 1 s) later.
 *
 * The started watches form a linked list through the watches themselves. A Set here (one add
 * and one delete per request) cost the edge about 15% more CPU per request under load, most of
 * it in garbage collection; linking allocates nothing.
 */
export class IdleSweeper {
  readonly #clock: Clock;
  readonly #ms: number;
  readonly #periodMs: number;
  #first: IdleWatch | undefined;
  #count = 0;
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

  /** How many watches are started. */
  get size(): number {
    return this.#count;
  }

  /** Starts checking `watch` (no change when it is checked already). */
  add(watch: IdleWatch): void {
    if (watch.listed) return;
    watch.listed = true;
    watch.previous = undefined;
    watch.next = this.#first;
    if (this.#first !== undefined) this.#first.previous = watch;
    this.#first = watch;
    this.#count++;
    if (this.#timer === undefined) this.#timer = this.#arm();
  }

  /** Stops checking `watch`. */
  delete(watch: IdleWatch): void {
    if (!watch.listed) return;
    watch.listed = false;
    const { previous, next } = watch;
    if (previous === undefined) this.#first = next;
    else previous.next = next;
    if (next !== undefined) next.previous = previous;
    watch.previous = undefined;
    watch.next = undefined;
    this.#count--;
  }

  #arm(): TimerHandle {
    const timer = this.#clock.setTimeout(() => this.#sweep(), this.#periodMs);
    timer.unref?.();
    return timer;
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = this.#clock.monotonic();
    const idle: IdleWatch[] = [];
    for (let watch = this.#first; watch !== undefined; watch = watch.next) {
      if (watch.idleAt(now, this.#ms)) idle.push(watch);
    }
    // Fired after the walk: a watch's onIdle may stop or start others.
    for (const watch of idle) {
      if (!watch.listed || !watch.idleAt(now, this.#ms)) continue;
      this.delete(watch);
      watch.fire();
    }
    if (this.#count > 0 && this.#timer === undefined) this.#timer = this.#arm();
  }
}

/**
 * Calls `onIdle` once nothing has happened for the sweeper's timeout (activity is reported with
 * `touch`), unless `paused`.
 */
export class IdleWatch {
  /** While true (waiting on the client's backpressure), idleness does not count. */
  paused = false;
  /** Links of the sweeper's list; only IdleSweeper changes them. */
  listed = false;
  previous: IdleWatch | undefined;
  next: IdleWatch | undefined;
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
