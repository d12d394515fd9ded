// Summaries of V8 CPU profiles (node --cpu-prof): self time per function and per kind of
// code, so a run of the edge or connector shows where its CPU went.

/** The parts of a .cpuprofile file this module reads. */
export interface CpuProfile {
  /** Monotonic clock of the profiled process, in µs (CLOCK_MONOTONIC on Linux, as process.hrtime). */
  startTime: number;
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function or category. */
export interface TimeShare {
  name: string;
  ms: number;
  /** Share of all non-idle time, 0–1. */
  share: number;
}

/** What {@link summarizeProfile} found. */
export interface ProfileSummary {
  /** Sampled time that was not idle, in ms. */
  busyMs: number;
  idleMs: number;
  categories: TimeShare[];
  functions: TimeShare[];
}

/** Which kind of code a frame is: V8's pseudo frames, Postern, dependencies, Node, or native. */
export function categoryOf(frame: { functionName: string; url: string }): string {
  const { functionName, url } = frame;
  if (url === '' && functionName.startsWith('(')) return functionName;
  if (url === '') return 'native (called from JS)';
  if (url.startsWith('node:')) return 'node core (JS)';
  if (url.includes('/node_modules/')) return 'dependencies';
  if (url.includes('/src/')) return `postern ${/\/src\/([^/]+)\//.exec(url)?.[1] ?? ''}`.trim();
  return 'other';
}

function frameName(frame: { functionName: string; url: string; lineNumber: number }): string {
  const file = frame.url.replace(/^.*\/(src|node_modules)\//, '$1/').replace(/^file:\/\//, '');
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  return file === '' ? name : `${name} ${file}:${frame.lineNumber + 1}`;
}

function ranked(totals: Map<string, number>, busyMs: number, top: number): TimeShare[] {
  return [...totals]
    .map(([name, ms]) => ({ name, ms, share: busyMs > 0 ? ms / busyMs : 0 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
}

/** Options of {@link summarizeProfile}. */
export interface SummaryOptions {
  /** Functions listed; default 15. */
  top?: number;
  /** Only samples taken at or after this time (µs, the profile's clock); default all. */
  fromUs?: number;
  /** Only samples taken before this time (µs, the profile's clock); default all. */
  toUs?: number;
}

/**
 * Self time per function (top `top`) and per category, attributing each sample the time up to
 * the next sample, as Chrome DevTools does. `(idle)` counts apart from the busy time.
 */
export function summarizeProfile(
  profile: CpuProfile,
  options: SummaryOptions = {},
): ProfileSummary {
  const { top = 15, fromUs = -Infinity, toUs = Infinity } = options;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const functions = new Map<string, number>();
  const categories = new Map<string, number>();
  let idleMs = 0;
  let busyMs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id);
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if (!frame || at < fromUs || at >= toUs) return;
    if (frame.functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    busyMs += ms;
    const name = frameName(frame);
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const category = categoryOf(frame);
    categories.set(category, (categories.get(category) ?? 0) + ms);
  });
  return {
    busyMs,
    idleMs,
    categories: ranked(categories, busyMs, Number.MAX_SAFE_INTEGER),
    functions: ranked(functions, busyMs, top),
  };
}

/** The summary as indented text lines. */
export function formatSummary(title: string, s: ProfileSummary): string {
  const pct = (v: number): string => `${(v * 100).toFixed(1).padStart(5)}%`;
  return [
    `${title}: busy ${(s.busyMs / 1000).toFixed(2)} s, idle ${(s.idleMs / 1000).toFixed(2)} s`,
    '  by kind of code:',
    ...s.categories.map((c) => `    ${pct(c.share)}  ${c.name}`),
    '  top functions (self time):',
    ...s.functions.map((f) => `    ${pct(f.share)}  ${f.name}`),
  ].join('\n');
}
