/** Decides whether an HTTP status is what a monitor expects. */
export type StatusMatcher = (status: number) => boolean;

const ITEM = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/;

/**
 * Parses an expected-status spec: one status ("200"), a range ("200-399"), or a list of either
 * (["200", "301-302"], or the same comma-separated). Returns undefined when malformed.
 */
export function parseStatusSpec(spec: string | readonly string[]): StatusMatcher | undefined {
  const items = typeof spec === 'string' ? spec.split(',') : spec.flatMap((s) => s.split(','));
  const ranges: [number, number][] = [];
  for (const item of items) {
    const match = ITEM.exec(item);
    if (!match) return undefined;
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (low < 100 || high > 599 || high < low) return undefined;
    ranges.push([low, high]);
  }
  if (ranges.length === 0) return undefined;
  return (status) => ranges.some(([low, high]) => status >= low && status <= high);
}
