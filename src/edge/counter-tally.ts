import type { Counter, LabelValues } from 'prom-client';

interface Pending<T extends string> {
  readonly labels: LabelValues<T>;
  value: number;
}

/** The part of prom-client's metric object that runs before every read (scrape, `get()`). */
interface Collectable {
  collect?: (this: unknown) => unknown;
}

/**
 * Sums increments of a prom-client counter per label set and applies them when the counter is
 * read. prom-client hashes and validates the labels on every `inc`, which showed in profiles
 * of the per-request path; here a request costs one Map lookup. Holds one entry per distinct
 * label set, as the counter itself does.
 */
export class CounterTally<T extends string> {
  readonly #counter: Counter<T>;
  readonly #pending = new Map<string, Pending<T>>();

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

  /** Adds `by` for `labels`; `key` must identify the label values (e.g. them joined by \0). */
  add(key: string, labels: LabelValues<T>, by = 1): void {
    const pending = this.#pending.get(key);
    if (pending) pending.value += by;
    else this.#pending.set(key, { labels, value: by });
  }

  /** Applies what was added so far to the counter. */
  flush(): void {
    for (const p of this.#pending.values()) {
      if (p.value === 0) continue;
      this.#counter.inc(p.labels, p.value);
      p.value = 0;
    }
  }
}
