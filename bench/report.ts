import type { Result } from './suite.js';
import { ratioOf, statusOf } from './suite.js';

/** Everything one suite produced in this run. */
export interface SuiteReport {
  name: string;
  title: string;
  results: Result[];
  notes: string[];
  /** Set when the suite threw or ran out of time; its results are then partial. */
  error?: string;
  elapsedMs: number;
}

/** Formats a figure with 3 significant digits and a thousands separator for large values. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

const header = ['case', 'result', 'also', 'vs', 'ratio', 'target', 'status'] as const;

function row(r: Result): string[] {
  const ratio = ratioOf(r);
  return [
    r.case,
    `${formatNumber(r.value)} ${r.unit}`,
    r.secondary ? `${formatNumber(r.secondary.value)} ${r.secondary.unit}` : '',
    r.baseline ? r.baseline.case : '',
    ratio === undefined ? '' : `${ratio.toFixed(2)}×`,
    r.target === undefined ? '' : `≥ ${r.target.toFixed(2)}×`,
    statusOf(r),
  ];
}

/** A fixed-width text table of one suite's results, for the terminal. */
export function textTable(report: SuiteReport): string {
  const rows = [header.slice(), ...report.results.map(row)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const title = `== ${report.name}: ${report.title} (${(report.elapsedMs / 1000).toFixed(1)} s)`;
  const error = report.error ? [`!! ${report.error}`] : [];
  return [title, ...lines, ...error, ...report.notes.map((n) => `   ${n}`)].join('\n');
}

/** The markdown section for one suite, wrapped in markers so later runs can replace it alone. */
export function markdownSection(report: SuiteReport, runLine: string): string {
  const md = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const table = [md(header), md(header.map(() => '---')), ...report.results.map((r) => md(row(r)))];
  const parts = [
    `<!-- suite:${report.name} -->`,
    `## ${report.name} — ${report.title}`,
    '',
    runLine,
    '',
    ...(report.results.length > 0 ? table : ['_No results._']),
  ];
  if (report.error) parts.push('', `**Error:** ${report.error}`);
  if (report.notes.length > 0) parts.push('', ...report.notes.map((n) => `- ${n}`));
  parts.push(`<!-- /suite:${report.name} -->`);
  return parts.join('\n');
}

const sectionPattern = /<!-- suite:([\w.-]+) -->[\s\S]*?<!-- \/suite:\1 -->/g;

/** Extracts the suite sections of an existing docs/benchmarks.md, by suite name. */
export function parseSections(markdown: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const m of markdown.matchAll(sectionPattern)) {
    if (m[1] !== undefined) sections.set(m[1], m[0]);
  }
  return sections;
}

/**
 * Builds docs/benchmarks.md: a fresh header, the sections of suites run now, and the
 * kept sections of suites not run this time (`--only`), in `order` then any others.
 */
export function composeDocument(
  headerText: string,
  fresh: Map<string, string>,
  previous: Map<string, string>,
  order: readonly string[],
): string {
  const merged = new Map(previous);
  for (const [name, text] of fresh) merged.set(name, text);
  const names = [
    ...order.filter((n) => merged.has(n)),
    ...[...merged.keys()].filter((n) => !order.includes(n)),
  ];
  const body = names.map((n) => merged.get(n) ?? '').join('\n\n');
  return `${headerText}\n\n${body}\n`;
}
