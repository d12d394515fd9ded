import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/repo-root.js';
import type { KubeObject } from './kube-schema.js';
import { parseObjects } from './kustomize-render.js';

/** The chart's directory. */
export function chartDir(): string {
  return join(repoRoot(), 'deploy', 'helm', 'postern');
}

/** The helm binary: $POSTERN_HELM, else `helm` on PATH. */
function helmBinary(): string {
  return process.env['POSTERN_HELM'] || 'helm';
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      helmBinary(),
      args,
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr: stderr || (err?.message ?? '') });
      },
    );
  });
}

/** Why chart rendering cannot run here (helm missing), or undefined when it can. */
export async function helmUnavailable(): Promise<string | undefined> {
  const { code, stderr } = await run(['version', '--short']);
  if (code === 0) return undefined;
  return `helm is not available (${helmBinary()}: ${stderr.split('\n')[0] ?? ''}); install Helm 3 to render the chart`;
}

/** Renders the chart with `helm template` and the given values; rejects with helm's message. */
export async function renderChart(
  values: object,
  options: { release?: string; namespace?: string } = {},
): Promise<KubeObject[]> {
  const dir = await mkdtemp(join(tmpdir(), 'postern-helm-'));
  try {
    const file = join(dir, 'values.json');
    await writeFile(file, JSON.stringify(values));
    const { code, stdout, stderr } = await run([
      'template',
      options.release ?? 'rel',
      chartDir(),
      '--namespace',
      options.namespace ?? 'postern',
      '--values',
      file,
    ]);
    if (code !== 0) throw new Error(`helm template failed: ${stderr}`);
    return parseObjects(stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let missing: Promise<string | undefined> | undefined;

/**
 * A test that renders the chart: run with helm, or reported skipped with the reason (never
 * passed); on CI (CI=true) a missing helm fails instead, as scripts/setup-test-host.sh installs it.
 */
export function helmTest(name: string, body: () => Promise<void>): void {
  test(name, async (t: TestContext) => {
    missing ??= helmUnavailable();
    const why = await missing;
    if (why !== undefined) {
      if (process.env['CI'] === 'true') assert.fail(`${why} (CI: run scripts/setup-test-host.sh)`);
      t.skip(why);
      return;
    }
    await body();
  });
}
