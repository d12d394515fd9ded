import { INITIAL_WINDOW } from '../protocol/index.js';

/**
 * RTT floor for window tuning: on loopback the idle ping RTT (tens of µs) says nothing about
 * the delay of a window update through busy event loops, so anything shorter counts as 1 ms.
 */
export const MIN_TUNING_RTT_MS = 1;

/**
 * The session-wide allowance for window growth beyond each stream's initial window: what
 * HTTP/2 and QUIC bound with a connection-level window. Without it, a hundred fast streams
 * could each grow to the per-stream maximum and make the receiver hold gigabytes.
 */
export class WindowBudget {
  #available: number;

  constructor(total: number) {
    this.#available = total;
  }

  /** Bytes of growth still available to the session's streams. */
  get available(): number {
    return this.#available;
  }

  /** Takes up to `wanted` bytes; returns how many were granted. */
  take(wanted: number): number {
    const got = Math.max(0, Math.min(wanted, this.#available));
    this.#available -= got;
    return got;
  }

  /** Returns growth a finished stream no longer needs. */
  give(bytes: number): void {
    this.#available += bytes;
  }
}

/**
 * One stream's receive-side flow control: how much the peer may still send (credit), how
 * large the window currently is (target), and when to grant more. The target doubles, up
 * to a ceiling, whenever the consumer drains half a window within about two RTTs (the
 * auto-tuning of QUIC and HTTP/2 BDP estimation), so a fast stream can fill the link while
 * a slow one holds no more than its window.
 */
export class ReceiveWindow {
  /** Current window size that grants top the peer's credit up to. */
  target: number;
  /** Bytes the peer may still send before it must wait for a window update. */
  credit = INITIAL_WINDOW;
  readonly #max: number;
  readonly #budget: WindowBudget | undefined;
  /** Growth taken from the session budget, returned by `dispose()`. */
  #borrowed = 0;
  #consumedTotal = 0;
  #epochStartConsumed = 0;
  #epochStartMs: number;

  constructor(options: { initial: number; max: number; nowMs: number; budget?: WindowBudget }) {
    this.target = options.initial;
    this.#max = options.max;
    this.#budget = options.budget;
    this.#epochStartMs = options.nowMs;
  }

  /** Gives the growth this window borrowed back to the session (the stream is finished). */
  dispose(): void {
    this.#budget?.give(this.#borrowed);
    this.#borrowed = 0;
  }

  /** True when a data frame of `length` bytes fits the credit the peer was given. */
  fits(length: number): boolean {
    return length <= this.credit;
  }

  /** Accounts `bytes` of payload received (already checked with `fits`). */
  received(bytes: number): void {
    this.credit -= bytes;
    this.#consumedTotal += bytes;
  }

  /** Cheap pre-check: true when at least half the window is free to grant. */
  worthGranting(buffered: number): boolean {
    return this.target - this.credit - buffered >= this.target / 2;
  }

  /**
   * The increment to grant now, or 0 when it is not yet worth a frame. `buffered` is what
   * the consumer has not read; grants are batched until at least half the window is free.
   */
  grant(buffered: number, options: { nowMs: number; rttMs: number | undefined }): number {
    if (!this.worthGranting(buffered)) return 0;
    this.#tune(this.#consumedTotal - buffered, options);
    const delta = this.target - this.credit - buffered;
    this.credit += delta;
    return delta;
  }

  /** The increment that raises the credit to the target (used for SYN/ACK, even if 0). */
  grantAll(buffered: number): number {
    const delta = Math.max(0, this.target - this.credit - buffered);
    this.credit += delta;
    return delta;
  }

  #tune(consumed: number, options: { nowMs: number; rttMs: number | undefined }): void {
    const inEpoch = consumed - this.#epochStartConsumed;
    const elapsed = options.nowMs - this.#epochStartMs;
    const rtt = Math.max(options.rttMs ?? MIN_TUNING_RTT_MS, MIN_TUNING_RTT_MS);
    // Window-limited: half a window or more was consumed in under ~2 RTTs (scaled by the
    // fraction of the window), so the sender spent time waiting for credit.
    if (this.target < this.#max && elapsed < 4 * (inEpoch / this.target) * rtt) {
      const wanted = Math.min(this.target, this.#max - this.target);
      const got = this.#budget ? this.#budget.take(wanted) : wanted;
      this.target += got;
      this.#borrowed += this.#budget ? got : 0;
    }
    this.#epochStartConsumed = consumed;
    this.#epochStartMs = options.nowMs;
  }
}
