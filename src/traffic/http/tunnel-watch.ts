import type { Clock, TimerHandle } from '../../core/index.js';

/**
 * Longest a joined tunnel waits, once one side has finished (FIN or closed), for the other to
 * finish too (HAProxy's `timeout client-fin` / `server-fin`); idle_timeout_ms when shorter.
 */
export const HALF_CLOSED_TIMEOUT_MS = 30_000;

/** Why a {@link TunnelWatch} gave up on its tunnel. */
export type TunnelExpiry = 'idle_timeout' | 'half_closed_timeout';

/** Options of {@link TunnelWatch}. */
export interface TunnelWatchOptions {
  /** Idle timeout of the open tunnel (ms); 0: never. */
  readonly idleMs: number;
  /** Told once when the tunnel has been quiet too long; the caller closes both sides. */
  readonly onExpire: (why: TunnelExpiry) => void;
}

/**
 * Bounds a joined tunnel's life without traffic, as HAProxy's `timeout tunnel`: bytes passed in
 * either direction are activity. Once one side has finished ({@link halfClosed}), the other gets
 * at most {@link HALF_CLOSED_TIMEOUT_MS} (or the idle timeout when shorter) without traffic to
 * finish as well. One timer, re-armed lazily when it fires early.
 */
export class TunnelWatch {
  readonly #clock: Clock;
  readonly #idleMs: number;
  readonly #onExpire: (why: TunnelExpiry) => void;
  #limitMs: number;
  #half = false;
  #last: number;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(clock: Clock, o: TunnelWatchOptions) {
    this.#clock = clock;
    this.#idleMs = o.idleMs;
    this.#onExpire = o.onExpire;
    this.#limitMs = o.idleMs;
    this.#last = clock.monotonic();
    this.#arm(this.#limitMs);
  }

  /** Records activity (bytes passed) now. */
  touch(): void {
    this.#last = this.#clock.monotonic();
  }

  /** One side has finished: the tunnel now has the half-closed bound. Idempotent. */
  halfClosed(): void {
    if (this.#half || this.#stopped) return;
    this.#half = true;
    const idle = this.#idleMs;
    this.#limitMs = idle > 0 ? Math.min(idle, HALF_CLOSED_TIMEOUT_MS) : HALF_CLOSED_TIMEOUT_MS;
    this.#last = this.#clock.monotonic();
    this.#disarm();
    this.#arm(this.#limitMs);
  }

  /** Stops watching (the tunnel closed). */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  #arm(ms: number): void {
    if (ms <= 0 || this.#stopped) return;
    const timer = this.#clock.setTimeout(() => this.#check(), ms);
    timer.unref?.();
    this.#timer = timer;
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    const left = this.#last + this.#limitMs - this.#clock.monotonic();
    if (left > 0) {
      this.#arm(Math.ceil(left));
      return;
    }
    this.#stopped = true;
    this.#onExpire(this.#half ? 'half_closed_timeout' : 'idle_timeout');
  }
}
