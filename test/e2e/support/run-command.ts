import { execFile } from 'node:child_process';

/** How a finished command ended. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to its end, killed (SIGKILL) after `timeoutMs`; never rejects, so the caller
 * decides what a non-zero exit means.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, ...options.env },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        const killed = err?.killed ? `\n(killed after ${options.timeoutMs} ms)` : '';
        resolve({ code, stdout, stderr: `${stderr}${killed}` });
      },
    );
  });
}

/** Runs a command and returns its stdout; throws with its output when it fails. */
export async function mustRun(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `\`${command} ${args.join(' ')}\` exited with ${result.code}:\n${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}
