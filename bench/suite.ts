/** What every suite receives from the runner. */
export interface SuiteContext {
  /** Smaller sizes and fewer runs (`--quick`). */
  readonly quick: boolean;
  /** Aborted when the suite's time budget is spent; stop work and child processes then. */
  readonly signal: AbortSignal;
  /** Progress on stderr (not part of the report). */
  log(message: string): void;
  /** A line for the suite's notes in docs/benchmarks.md (method, negotiated cipher, sizes). */
  note(message: string): void;
}

/** One measured figure; `baseline` and `target` turn it into a ratio with PASS/BELOW. */
export interface Result {
  /** What was measured, e.g. `one MuxStream`. */
  case: string;
  value: number;
  /** Unit of `value`, e.g. `Gbit/s`, `frames/s`. */
  unit: string;
  /** A second view of the same measurement, e.g. Gbit/s next to frames/s. */
  secondary?: { value: number; unit: string };
  /** The figure this one is compared with (same unit): ratio = value / baseline.value. */
  baseline?: { case: string; value: number };
  /** Minimum ratio to the baseline that counts as PASS. */
  target?: number;
}

/** A benchmark suite: bench/suites/<file>.js default-exports (or exports `suite`) one of these. */
export interface Suite {
  /** Short name used by `--only`. */
  name: string;
  /** One line shown as the section title. */
  title: string;
  /** Time budget; the runner aborts the suite after it. Default 10 minutes. */
  timeoutMs?: number;
  run(ctx: SuiteContext): Promise<Result[]>;
}

/** Narrows an imported module's export to a Suite, or returns undefined. */
export function asSuite(value: unknown): Suite | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<Suite>;
  if (typeof v.name !== 'string' || typeof v.title !== 'string') return undefined;
  if (typeof v.run !== 'function') return undefined;
  return v as Suite;
}

/** Ratio of a result to its baseline, or undefined without one. */
export function ratioOf(result: Result): number | undefined {
  if (!result.baseline || result.baseline.value === 0) return undefined;
  return result.value / result.baseline.value;
}

/** PASS / BELOW against the target ratio, or '' without a target. */
export function statusOf(result: Result): '' | 'PASS' | 'BELOW' {
  const ratio = ratioOf(result);
  if (ratio === undefined || result.target === undefined) return '';
  return ratio >= result.target ? 'PASS' : 'BELOW';
}
