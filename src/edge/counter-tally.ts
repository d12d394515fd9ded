import type { Counter, LabelValues } from 'prom-client';

interface Pending<T extends string> {
  readonly labels: LabelValues<T>;
  value: number;
}

/** The part of prom-client's metric object that runs before every read (scrape, `get()`). */
interface Collectable {
  collect?: (this: unknown) => unknown;
}

/** Builds the labels of a key pair once, when the pair is first counted. */
export type LabelsOf<T extends string> = (first: string, second: string | number) => LabelValues<T>;

/**
 * Sums increments of a prom-client counter per label set and applies them when the counter is
 * read. prom-client hashes and validates the labels on every `inc`, which showed in profiles
 * of the per-request path; here a request costs two Map lookups by values the caller already
 * holds (no key string is built per request, and a new string is hashed on every lookup). Holds
 * one entry per distinct label set, as the counter itself does.
 */
export class CounterTally<T extends string> {
  readonly #counter: Counter<T>;
  readonly #pending = new Map<string, Map<string | number, Pending<T>>>();

  constructor(counter: Counter<T>) {
    this.#counter = counter;
    // prom-client calls `collect` first in every `get()`, which every registry read goes through.
    const target = counter as unknown as Collectable;
    const previous = target.collect;
    const flush = (): void => this.flush();
    target.collect = function (this: unknown) {
      flush();
      return previous?.call(this);
    };
  }

  /**
   * Adds `by` for the label set that `first` and `second` identify together; `labelsOf` makes
   * that set the first time the pair is seen.
   */
  add(first: string, second: string | number, labelsOf: LabelsOf<T>, by = 1): void {
    let inner = this.#pending.get(first);
    if (inner === undefined)
      this.#pending.set(first, (inner = new Map<string | number, Pending<T>>()));
    const pending = inner.get(second);
    if (pending) pending.value += by;
    else inner.set(second, { labels: labelsOf(first, second), value: by });
  }

  /** Applies what was added so far to the counter. */
  flush(): void {
    for (const inner of this.#pending.values()) {
      for (const p of inner.values()) {
        if (p.value === 0) continue;
        this.#counter.inc(p.labels, p.value);
        p.value = 0;
      }
    }
  }
}
