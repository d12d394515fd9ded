import type { Result } from '../suite.js';

/** One figure measured on the three paths of the edge-tunnel suite. */
export interface ThreeWay {
  direct: number;
  ssh: number;
  postern: number;
}

/** How {@link comparisonRows} labels and judges a figure. */
export interface ComparisonOptions {
  /** What was measured, e.g. `single stream (iperf3)`. */
  metric: string;
  unit: string;
  /** Minimum Postern / ssh -R ratio that counts as PASS; none = no verdict. */
  target?: number;
}

/** Row labels of the three paths, shared with the notes. */
export const pathLabels = { direct: 'direct loopback', ssh: 'ssh -R', postern: 'Postern' } as const;

/**
 * Three result rows for one figure: direct loopback alone, `ssh -R` compared with direct, and
 * Postern compared with `ssh -R` (its target) with its ratio to direct as the second view.
 */
export function comparisonRows(values: ThreeWay, options: ComparisonOptions): Result[] {
  const { metric, unit, target } = options;
  const label = (path: keyof typeof pathLabels): string => `${metric} — ${pathLabels[path]}`;
  const postern: Result = {
    case: label('postern'),
    value: values.postern,
    unit,
    baseline: { case: label('ssh'), value: values.ssh },
  };
  if (values.direct > 0)
    postern.secondary = { value: values.postern / values.direct, unit: '× direct' };
  if (target !== undefined) postern.target = target;
  return [
    { case: label('direct'), value: values.direct, unit },
    {
      case: label('ssh'),
      value: values.ssh,
      unit,
      baseline: { case: label('direct'), value: values.direct },
    },
    postern,
  ];
}
