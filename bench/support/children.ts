import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpawnedProcess } from '../../test/e2e/support/spawned-process.js';

/** The child processes of one suite run, so every one of them is stopped at the end. */
export class Children {
  readonly #all: SpawnedProcess[] = [];

  /** Spawns and tracks a process (environment merged over this process's). */
  spawn(
    name: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv = {},
  ): SpawnedProcess {
    const child = new SpawnedProcess(name, command, args, env);
    this.#all.push(child);
    return child;
  }

  /** Tracks a process spawned elsewhere. */
  adopt(child: SpawnedProcess): SpawnedProcess {
    this.#all.push(child);
    return child;
  }

  /**
   * SIGTERM to each live process (newest first, so clients go before the servers they use),
   * SIGKILL to any still running after `graceMs`; returns the names of processes that survived.
   */
  async stopAll(graceMs = 3_000): Promise<string[]> {
    const survivors: string[] = [];
    for (const child of [...this.#all].reverse()) {
      if (await child.stop('SIGTERM', graceMs)) continue;
      if (!(await child.stop('SIGKILL', 2_000)))
        survivors.push(`${child.name} (pid ${child.child.pid})`);
    }
    this.#all.length = 0;
    return survivors;
  }

  /** SIGKILL to every live process at once, synchronously: for an abort or an exiting runner. */
  killAll(): void {
    for (const child of this.#all) if (!child.hasExited) child.child.kill('SIGKILL');
  }

  /** The last output lines of every tracked process, for error messages. */
  tails(lines = 8): string {
    return this.#all.map((c) => c.tail(lines)).join('\n');
  }
}

/**
 * Runs a suite's work with its own temporary directory and set of child processes, and
 * guarantees that nothing outlives it: children are killed when the suite's budget runs out
 * or the process exits, stopped afterwards, and the directory removed.
 */
export async function withChildren<T>(
  ctx: { readonly signal: AbortSignal; log(message: string): void },
  prefix: string,
  work: (children: Children, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const children = new Children();
  const killAll = (): void => children.killAll();
  ctx.signal.addEventListener('abort', killAll, { once: true });
  process.once('exit', killAll);
  try {
    return await work(children, dir);
  } catch (err) {
    ctx.log(`failed; last output of the processes:\n${children.tails()}`);
    throw err;
  } finally {
    ctx.signal.removeEventListener('abort', killAll);
    process.off('exit', killAll);
    const survivors = await children.stopAll();
    await rm(dir, { recursive: true, force: true });
    if (survivors.length > 0) ctx.log(`processes that did not exit: ${survivors.join(', ')}`);
  }
}
