// Runs the benchmark suites in bench/suites/, prints a table with ratios per suite and
// rewrites docs/benchmarks.md. Usage (after `npm run build`):
//   node dist/bench/run.js [--only NAME[,NAME]]... [--quick] [--no-docs] [--list]
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine, machineInfo } from './machine.js';
import { composeDocument, markdownSection, parseSections, textTable } from './report.js';
import { readCpuTimes, stealShare } from './support/host-steal.js';
import type { SuiteReport } from './report.js';
import { asSuite, statusOf } from './suite.js';
import type { Result, Suite } from './suite.js';
import { repoRoot } from '../test/support/repo-root.js';

const defaultTimeoutMs = 10 * 60_000;

/** Imports every bench/suites/*.js that exports a suite (default or `suite`), sorted by file name. */
async function discoverSuites(): Promise<Suite[]> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.js') && !f.startsWith('_'))
    .sort();
  const suites: Suite[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
    const suite = asSuite(mod['default']) ?? asSuite(mod['suite']);
    if (suite) suites.push(suite);
  }
  return suites;
}

/** Runs one suite within its time budget; a timeout or a throw becomes `error`, not a crash. */
async function runSuite(suite: Suite, quick: boolean): Promise<SuiteReport> {
  const notes: string[] = [];
  const controller = new AbortController();
  const budget = suite.timeoutMs ?? defaultTimeoutMs;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`time budget of ${budget / 1000} s spent`));
      reject(new Error(`suite ${suite.name} exceeded its time budget of ${budget / 1000} s`));
    }, budget);
  });
  const ctx = {
    quick,
    signal: controller.signal,
    log: (m: string) => console.error(`[${suite.name}] ${m}`),
    note: (m: string) => void notes.push(m),
  };
  let results: Result[] = [];
  let error: string | undefined;
  const cpuBefore = readCpuTimes();
  try {
    results = await Promise.race([suite.run(ctx), timeout]);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    controller.abort(err);
  } finally {
    clearTimeout(timer);
  }
  const steal = stealShare(cpuBefore, readCpuTimes());
  if (steal !== undefined) {
    notes.push(
      `Host CPU steal during the suite: ${(steal * 100).toFixed(1)}% of the machine's CPU time went to other guests of the hypervisor${steal > 0.05 ? '; above a few percent every process runs slower at once, so these figures are not comparable with another run' : ''}.`,
    );
  }
  const report: SuiteReport = {
    name: suite.name,
    title: suite.title,
    results,
    notes,
    elapsedMs: performance.now() - started,
  };
  if (error !== undefined) report.error = error;
  return report;
}

function writeDocs(
  reports: SuiteReport[],
  order: string[],
  options: { quick: boolean; machine: string },
): string {
  const { quick, machine } = options;
  const path = join(repoRoot(), 'docs/benchmarks.md');
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const runLine = `Run ${date}${quick ? ' with `--quick`' : ''} on ${machine}.`;
  const header = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); do not edit by hand. Each suite section is',
    'replaced when that suite runs (`--only NAME` leaves the other sections as they were).',
    'Ratios compare with a peer measured in the same run on the same machine.',
    '',
    `Last run: ${date}${quick ? ' (`--quick`)' : ''} — ${machine}.`,
  ].join('\n');
  const previous = existsSync(path)
    ? parseSections(readFileSync(path, 'utf8'))
    : new Map<string, string>();
  const fresh = new Map(reports.map((r) => [r.name, markdownSection(r, runLine)]));
  writeFileSync(path, composeDocument(header, fresh, previous, order));
  return path;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
    },
  });
  const all = await discoverSuites();
  if (values.list) {
    for (const s of all) console.log(`${s.name}\t${s.title}`);
    return 0;
  }
  const only = (values.only ?? []).flatMap((o) => o.split(',')).filter((o) => o !== '');
  const unknown = only.filter((o) => !all.some((s) => s.name === o));
  if (unknown.length > 0) {
    console.error(
      `unknown suite(s): ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`,
    );
    return 2;
  }
  const chosen = only.length > 0 ? all.filter((s) => only.includes(s.name)) : all;
  // Described before the suites run, so the load average is the machine's, not the bench's.
  const machine = describeMachine(machineInfo());
  console.log(machine);
  const reports: SuiteReport[] = [];
  for (const suite of chosen) {
    console.error(`running ${suite.name}${values.quick ? ' (quick)' : ''} …`);
    const report = await runSuite(suite, values.quick);
    reports.push(report);
    console.log(`\n${textTable(report)}`);
  }
  if (!values['no-docs']) {
    const order = all.map((s) => s.name);
    const path = writeDocs(reports, order, { quick: values.quick, machine });
    console.log(`\nwrote ${path}`);
  }
  const failed = reports.filter((r) => r.error !== undefined).length;
  const below = reports.flatMap((r) => r.results).filter((r) => statusOf(r) === 'BELOW').length;
  console.log(`${reports.length} suite(s), ${failed} failed, ${below} result(s) below target`);
  return failed > 0 ? 1 : 0;
}

// Exit explicitly: a suite that overran its budget may still hold sockets or timers.
process.exit(await main());
