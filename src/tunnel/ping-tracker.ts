import type { Clock } from '../core/index.js';

interface PendingPing {
  readonly startedAt: number;
  readonly resolve: ((rttMs: number) => void) | undefined;
  readonly reject: ((err: Error) => void) | undefined;
}

/** Hands out ping ids, matches replies to them and keeps the last round-trip time. */
export class PingTracker {
  readonly #clock: Clock;
  readonly #pending = new Map<number, PendingPing>();
  #nextId = 0;
  #rttMs: number | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Last measured round-trip time in ms. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** Registers a new ping and returns the opaque value to send with it. */
  start(waiter?: { resolve: (rttMs: number) => void; reject: (err: Error) => void }): number {
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) >>> 0;
    this.#pending.set(id, {
      startedAt: this.#clock.monotonic(),
      resolve: waiter?.resolve,
      reject: waiter?.reject,
    });
    return id;
  }

  /** A reply arrived; unknown values (late or forged) are ignored. */
  answered(id: number): void {
    const ping = this.#pending.get(id);
    if (ping === undefined) return;
    this.#pending.delete(id);
    const rtt = this.#clock.monotonic() - ping.startedAt;
    this.#rttMs = rtt;
    ping.resolve?.(rtt);
  }

  /** Rejects every waiting ping (the session ended). */
  failAll(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const ping of pending) ping.reject?.(err);
  }
}
