import type { Clock, TimerHandle } from '../core/index.js';

/** Options of {@link Keepalive}. */
export interface KeepaliveOptions {
  clock: Clock;
  /** Interval between pings in ms. */
  intervalMs: number;
  /** The peer is dead after this long without inbound bytes. */
  timeoutMs: number;
  /** Sends one ping. */
  sendPing: () => void;
  /** Called once when the peer is declared dead. */
  onDead: () => void;
}

/**
 * Pings the peer every interval and declares it dead when nothing at all arrived for the
 * timeout. One timer serves both duties. Inbound traffic only sets a flag (no clock read per
 * chunk on the hot path); the timer turns it into a timestamp at least every quarter of the
 * timeout, so a dead peer is declared between 1 and 1.25 timeouts after its last byte.
 */
export class Keepalive {
  readonly #options: KeepaliveOptions;
  #lastInbound: number;
  #nextPingAt: number;
  #timer: TimerHandle | undefined;
  #heard = false;
  #stopped = false;

  constructor(options: KeepaliveOptions) {
    this.#options = options;
    const now = options.clock.monotonic();
    this.#lastInbound = now;
    this.#nextPingAt = now + options.intervalMs;
    this.#arm(now);
  }

  /** Records that bytes arrived from the peer (cheap: called for every inbound chunk). */
  touch(): void {
    this.#heard = true;
  }

  /** Cancels the timer for good. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(now: number): void {
    const { timeoutMs } = this.#options;
    const due = Math.min(this.#nextPingAt, this.#lastInbound + timeoutMs, now + timeoutMs / 4);
    this.#timer = this.#options.clock.setTimeout(() => this.#fire(), Math.max(0, due - now));
    this.#timer.unref?.();
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    const now = this.#options.clock.monotonic();
    if (this.#heard) {
      this.#heard = false;
      this.#lastInbound = now;
    }
    if (now - this.#lastInbound >= this.#options.timeoutMs) {
      this.stop();
      this.#options.onDead();
      return;
    }
    if (now >= this.#nextPingAt) {
      this.#nextPingAt = now + this.#options.intervalMs;
      this.#options.sendPing();
    }
    if (!this.#stopped) this.#arm(now);
  }
}
