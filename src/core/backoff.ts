import { CoreErrors } from './errors.js';

/** Options for {@link Backoff}; defaults follow Konnectivity's agent (1 s, ×1.5, 10 s cap). */
export interface BackoffOptions {
  /** First delay in ms. Default 1000. */
  initialMs?: number;
  /** Growth factor per attempt. Default 1.5. */
  factor?: number;
  /** Largest delay in ms. Default 10000. */
  maxMs?: number;
  /** Fraction of the delay randomised (0..1). Default 0.2. */
  jitter?: number;
  /** Random source in [0, 1). Default Math.random. */
  random?: () => number;
}

/** Jittered exponential backoff: each `next()` returns the next delay; `reset()` starts over. */
export class Backoff {
  readonly #initial: number;
  readonly #factor: number;
  readonly #max: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 1000;
    this.#factor = options.factor ?? 1.5;
    this.#max = options.maxMs ?? 10_000;
    this.#jitter = options.jitter ?? 0.2;
    this.#random = options.random ?? Math.random;
    if (this.#initial <= 0 || this.#factor < 1 || this.#max < this.#initial) {
      throw CoreErrors.invalidArgument(
        'backoff',
        'need initialMs > 0, factor >= 1, maxMs >= initialMs',
      );
    }
    if (this.#jitter < 0 || this.#jitter > 1) {
      throw CoreErrors.invalidArgument('backoff jitter', 'must be between 0 and 1');
    }
  }

  /** Number of delays handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay in ms. */
  next(): number {
    const base = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt += 1;
    const spread = base * this.#jitter;
    return Math.max(0, Math.round(base - spread + 2 * spread * this.#random()));
  }

  /** Start again from the initial delay (after a success). */
  reset(): void {
    this.#attempt = 0;
  }
}
