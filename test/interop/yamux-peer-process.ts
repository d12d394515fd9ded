import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One JSON line printed by the Go peer. */
export type PeerEvent = { event: string } & Record<string, unknown>;

/** Options for {@link YamuxPeerProcess.start}. */
export interface PeerStartOptions {
  role: 'client' | 'server';
  /** Address to dial (client) or listen on (server); default 127.0.0.1:0. */
  addr?: string;
  /** yamux MaxStreamWindowSize of the Go side; default 16 MiB. */
  maxWindow?: number;
  /** Extra flags, e.g. `['--sink-delay', '500ms']`. */
  args?: readonly string[];
}

/** The tap's view of one stream, as reported by the peer. */
export interface PeerStreamStats {
  dataIn: number;
  dataOut: number;
  windowIn: number;
  windowOut: number;
  finIn: boolean;
  finOut: boolean;
  rstIn: boolean;
  rstOut: boolean;
  synIn: boolean;
  dataInAfterFinOut: number;
  peakSendCredit: number;
  peakRecvCredit: number;
}

/** Drives test/peers/yamux-peer: JSON-line events on stdout, JSON-line commands on stdin. */
export class YamuxPeerProcess {
  readonly events: PeerEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Extra text for error messages, e.g. the Postern session's close reason. */
  context: () => string = () => '';
  private readonly waiters = new Set<() => void>();
  private stderrText = '';
  private nextId = 1;
  private closed = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.exited = new Promise((resolve) => {
      // 'close' comes after 'exit' once stdout and stderr are drained, so errors quote all of it.
      child.once('close', (code, signal) => {
        this.closed = true;
        resolve({ code, signal });
        this.wake();
      });
    });
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      // Keep the tail only: yamux logs a line per discarded frame in some tests.
      this.stderrText = (this.stderrText + text).slice(-8192);
    });
  }

  /** Spawns the peer binary in the given role. */
  static start(binary: string, options: PeerStartOptions): YamuxPeerProcess {
    const args = [
      '--role',
      options.role,
      '--addr',
      options.addr ?? '127.0.0.1:0',
      '--max-window',
      String(options.maxWindow ?? 16 * 1024 * 1024),
      '--lifetime',
      '4m',
      ...(options.args ?? []),
    ];
    return new YamuxPeerProcess(spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  /** The last 8 KiB the peer wrote to stderr (yamux's log), for failure messages. */
  get stderr(): string {
    return this.stderrText;
  }

  /** Resolves with the first event (already seen or future) matching `match`. */
  async waitFor(match: (e: PeerEvent) => boolean, timeoutMs = 30_000): Promise<PeerEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (this.closed)
        throw new Error(`yamux peer exited before the expected event${this.diagnosis()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`yamux peer: timed out waiting${this.diagnosis()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, left);
        function wake(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(wake);
      });
    }
  }

  /** Sends one command and resolves with its result event. */
  async command(
    cmd: string,
    params: Record<string, unknown> = {},
    timeoutMs = 60_000,
  ): Promise<PeerEvent> {
    const id = this.nextId++;
    this.child.stdin.write(`${JSON.stringify({ ...params, id, cmd })}\n`);
    return this.waitFor((e) => e.event === 'result' && e['id'] === id, timeoutMs);
  }

  /** Closes stdin (the peer then closes its session) and resolves with the exit; kills after `graceMs`. */
  async stop(graceMs = 5_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  private diagnosis(): string {
    const context = this.context();
    return `${context === '' ? '' : `; ${context}`}; peer stderr:\n${this.stderr}`;
  }

  private onLine(line: string): void {
    try {
      const parsed = JSON.parse(line) as PeerEvent;
      this.events.push(parsed);
    } catch {
      this.events.push({ event: 'unparsed', line });
    }
    this.wake();
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}
