import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';

/** One output line of a spawned process; `json` is set when the line is a JSON object (pino logs). */
export interface OutputLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  readonly json?: Record<string, unknown>;
}

const TAIL_LINES = 25;

/**
 * A long-running child process whose output is kept line by line, so a test can wait, with a
 * deadline, for a line that matches (already printed or still to come).
 */
export class SpawnedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: OutputLine[] = [];
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #events = new EventEmitter<{ line: [OutputLine]; exit: [] }>();
  #hasExited = false;

  constructor(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.name = name;
    this.child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.child.stdin?.on('error', () => undefined);
    this.#collect('stdout');
    this.#collect('stderr');
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.#hasExited = true;
        this.#events.emit('exit');
        resolve({ code, signal });
      });
      this.child.once('error', (err) => {
        this.#push({ stream: 'stderr', text: `spawn failed: ${err.message}` });
        this.#hasExited = true;
        this.#events.emit('exit');
        resolve({ code: null, signal: null });
      });
    });
  }

  /** Whether the process has exited. */
  get hasExited(): boolean {
    return this.#hasExited;
  }

  /** Parsed JSON log lines from stderr. */
  logs(): Record<string, unknown>[] {
    return this.lines.flatMap((l) => (l.stream === 'stderr' && l.json ? [l.json] : []));
  }

  /** Waits for a matching line; rejects at the deadline or when the process exits first. */
  waitFor(
    match: (line: OutputLine) => boolean,
    options: { timeoutMs: number; what: string },
  ): Promise<OutputLine> {
    const found = this.lines.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#events.off('line', onLine);
        this.#events.off('exit', onExit);
      };
      const onLine = (line: OutputLine): void => {
        if (!match(line)) return;
        cleanup();
        resolve(line);
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`${this.name} exited before ${options.what}\n${this.tail()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `${this.name}: no ${options.what} within ${options.timeoutMs} ms\n${this.tail()}`,
          ),
        );
      }, options.timeoutMs);
      this.#events.on('line', onLine);
      this.#events.once('exit', onExit);
      if (this.#hasExited) onExit();
    });
  }

  /** Waits for a pino log line whose `msg` is `msg` and whose fields pass `where`. */
  waitForLog(
    msg: string,
    options: { timeoutMs: number; where?: (entry: Record<string, unknown>) => boolean },
  ): Promise<Record<string, unknown>> {
    const where = options.where ?? (() => true);
    return this.waitFor((l) => l.json?.msg === msg && where(l.json), {
      timeoutMs: options.timeoutMs,
      what: `log "${msg}"`,
    }).then((l) => l.json ?? {});
  }

  /** Sends a signal and waits (bounded) for the exit; true when it exited in time. */
  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
    if (this.#hasExited) return true;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>(
      (resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)),
    );
    const result = await Promise.race([this.exited.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }

  /** The last lines of output, for failure messages. */
  tail(count = TAIL_LINES): string {
    return this.lines
      .slice(-count)
      .map((l) => `  [${this.name} ${l.stream}] ${l.text}`)
      .join('\n');
  }

  #collect(stream: 'stdout' | 'stderr'): void {
    const source = this.child[stream];
    if (!source) return;
    createInterface({ input: source, crlfDelay: Infinity }).on('line', (text) => {
      this.#push({ stream, text, ...parseJsonObject(text) });
    });
  }

  #push(line: OutputLine): void {
    this.lines.push(line);
    this.#events.emit('line', line);
  }
}

function parseJsonObject(text: string): { json?: Record<string, unknown> } {
  if (!text.startsWith('{')) return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null
      ? { json: value as Record<string, unknown> }
      : {};
  } catch {
    return {};
  }
}
