import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestEdge } from '../../../test/harness/harness.js';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));

/** What a CLI run printed and how it exited. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the built `postern` CLI with an admin command against `edge` (its URL, and `token`,
 * default the edge's admin token, on the command line; none from this process's environment).
 */
export function runAdminCli(
  edge: TestEdge,
  args: string[],
  token = edge.adminToken,
): Promise<CliRun> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.POSTERN_ADMIN_TOKEN;
    delete env.POSTERN_ADMIN_URL;
    execFile(
      process.execPath,
      [CLI, ...args, '--admin', edge.adminUrl, '--token', token],
      { env, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
