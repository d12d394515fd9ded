import type { Logger } from 'pino';
import { AttemptLimiter } from '../control/index.js';
import type { Clock, PosternError, TimerHandle } from '../core/index.js';
import { edgeErrors } from './errors.js';

/** Limits of an {@link EnrollmentGuard}. */
export interface EnrollmentGuardOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Failed enrollments allowed per source address within `windowMs`; default 10. */
  readonly maxFailuresPerSource?: number | undefined;
  /** Failed enrollments allowed per provisioning key id within `windowMs`; default 20. */
  readonly maxFailuresPerKey?: number | undefined;
  /** How long failures count, a lock lasts, and log lines are summed; default 60 s. */
  readonly windowMs?: number | undefined;
  /** Sources and key ids tracked at most (the oldest go first); default 10000. */
  readonly maxTracked?: number | undefined;
}

/** A refusal as the guard logs it. */
export interface EnrollmentFailure {
  readonly code: string;
  readonly message: string;
}

interface SourceLog {
  /** Refusals not logged one by one since the last line, by code. */
  readonly codes: Map<string, number>;
  suppressed: number;
}

/**
 * Guards the enrollment port against guessing and log flooding: failed enrollments are counted
 * per source address and per key id (successes are not), a source or key over its limit is
 * refused with POSTERN_ERR_ENROLLMENT_RATE_LIMITED until its window ends, and refusals are
 * logged once per source and window in full, then as one summary line per source and window.
 * Counts live in this edge's memory (bounded), so each edge of an HA set limits on its own.
 */
export class EnrollmentGuard {
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #maxTracked: number;
  readonly #sources: AttemptLimiter;
  readonly #keys: AttemptLimiter;
  readonly #logs = new Map<string, SourceLog>();
  #timer: TimerHandle | undefined;

  constructor(options: EnrollmentGuardOptions) {
    this.#log = options.logger;
    this.#clock = options.clock;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxTracked = options.maxTracked ?? 10_000;
    const limit = (maxFailures: number) =>
      new AttemptLimiter(options.clock, {
        maxFailures,
        windowMs: this.#windowMs,
        maxKeys: this.#maxTracked,
      });
    this.#sources = limit(options.maxFailuresPerSource ?? 10);
    this.#keys = limit(options.maxFailuresPerKey ?? 20);
  }

  /** The refusal to send when the source (or the key id, when known) is locked; else undefined. */
  check(source: string, keyId?: string): PosternError | undefined {
    const wait = Math.max(
      this.#sources.retryAfterMs([source]),
      keyId === undefined ? 0 : this.#keys.retryAfterMs([keyId]),
    );
    return wait > 0 ? edgeErrors.enrollmentRateLimited(Math.ceil(wait / 1000)) : undefined;
  }

  /** Counts a failed enrollment (unless it was a rate-limit refusal) and logs it, summed. */
  failed(source: string, keyId: string | undefined, failure: EnrollmentFailure): void {
    if (failure.code !== 'POSTERN_ERR_ENROLLMENT_RATE_LIMITED') {
      this.#sources.fail([source]);
      if (keyId !== undefined) this.#keys.fail([keyId]);
    }
    const entry = this.#logs.get(source);
    if (entry) {
      entry.suppressed += 1;
      entry.codes.set(failure.code, (entry.codes.get(failure.code) ?? 0) + 1);
      return;
    }
    this.#log.warn(
      { remote: source, key: keyId, reason: failure.code, err: failure.message },
      'enrollment refused (further refusals from this address are summed once a minute)',
    );
    this.#logs.set(source, { codes: new Map(), suppressed: 0 });
    // Bounded: the oldest source's summary is written early rather than kept.
    for (const oldest of this.#logs.keys()) {
      if (this.#logs.size <= this.#maxTracked) break;
      this.#flushOne(oldest);
    }
    this.#timer ??= this.#schedule();
  }

  /** Writes the pending summaries and stops the timer. */
  close(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const source of [...this.#logs.keys()]) this.#flushOne(source);
  }

  #schedule(): TimerHandle {
    const timer = this.#clock.setTimeout(() => this.#flush(), this.#windowMs);
    timer.unref?.();
    return timer;
  }

  /**
   * End of a window: one summary line per source that had more refusals (it stays summed for
   * the next window); sources that were quiet are forgotten.
   */
  #flush(): void {
    this.#timer = undefined;
    for (const [source, entry] of [...this.#logs]) {
      this.#flushOne(source);
      if (entry.suppressed > 0) this.#logs.set(source, { codes: new Map(), suppressed: 0 });
    }
    if (this.#logs.size > 0) this.#timer = this.#schedule();
  }

  #flushOne(source: string): void {
    const entry = this.#logs.get(source);
    this.#logs.delete(source);
    if (!entry || entry.suppressed === 0) return;
    this.#log.warn(
      {
        remote: source,
        refusals: entry.suppressed,
        reasons: Object.fromEntries(entry.codes),
        windowSeconds: Math.round(this.#windowMs / 1000),
      },
      'more enrollments refused from this address',
    );
  }
}
