/** Summary of latency samples in microseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

/**
 * The nearest-rank percentile of ascending `sorted` values: the smallest sample such that at
 * least `p` percent of the samples are ≤ it. Throws on an empty list or `p` outside 0–100.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no samples');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${p} is outside 0–100`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** p50, p99, mean and max of unordered samples (the input is not modified). */
export function summarizeLatency(samples: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  let sum = 0;
  for (const v of list) sum += v;
  return {
    count: list.length,
    p50: percentile(list, 50),
    p99: percentile(list, 99),
    mean: sum / list.length,
    max: list[list.length - 1] as number,
  };
}

/** The largest value, or 0 for none: the best of several throughput runs. */
export function best(values: readonly number[]): number {
  return values.reduce((a, b) => Math.max(a, b), 0);
}

/** Median of unordered values (upper median for an even count), or 0 for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}
