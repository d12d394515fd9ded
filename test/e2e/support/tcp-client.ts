// The client of the end-to-end tests, run as a script inside the edge namespace. Modes:
//   probe <host:port> <timeoutMs>                 try one TCP connect; prints a ProbeResult
//   echo <host:port> <connections> <bytes> <timeoutMs>
//        concurrent connections each send random bytes and read the echo; prints EchoResult[]
//   hold <host:port> <connections> <timeoutMs>
//        opens connections, checks each with a small echo, prints {"ready":EchoResult[]}, keeps
//        them open until stdin ends (or 60 s pass), then closes them and prints {"closed":n}
// Every result is one JSON line on stdout.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { parseHostPort } from './host-port.js';

/** What a connect attempt did. */
export interface ProbeResult {
  readonly connected: boolean;
  readonly code?: string;
  readonly ms: number;
}

/** What one echo connection did: `ok` only when every byte came back intact. */
export interface EchoResult {
  readonly ok: boolean;
  readonly localPort: number;
  readonly sent: number;
  readonly received: number;
  readonly sentSha256: string;
  readonly receivedSha256: string;
  /** Why it ended early: an errno code, `closed` (peer ended first) or `timeout`. */
  readonly error?: string;
}

const HOLD_LIMIT_MS = 60_000;

function probe(target: string, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(parseHostPort(target));
    const finish = (connected: boolean, code?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ connected, ms: Date.now() - started, ...(code === undefined ? {} : { code }) });
    };
    const timer = setTimeout(() => finish(false, 'timeout'), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
  });
}

/**
 * Sends `bytes` random bytes and reads until as many came back. It does not half-close, so the
 * check does not depend on FIN propagation; with `keep` the socket stays open afterwards.
 */
function echoOnce(
  target: string,
  bytes: number,
  options: { timeoutMs: number; keep?: (socket: net.Socket) => void },
): Promise<EchoResult> {
  const payload = randomBytes(bytes);
  const sentSha256 = createHash('sha256').update(payload).digest('hex');
  const hash = createHash('sha256');
  let received = 0;
  let localPort = 0;
  return new Promise((resolve) => {
    const socket = net.connect(parseHostPort(target));
    let settled = false;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const receivedSha256 = hash.digest('hex');
      const ok = error === undefined && received === bytes && receivedSha256 === sentSha256;
      if (ok && options.keep) options.keep(socket);
      else socket.destroy();
      resolve({
        ok,
        localPort,
        sent: bytes,
        received,
        sentSha256,
        receivedSha256,
        ...(error === undefined ? {} : { error }),
      });
    };
    const timer = setTimeout(() => finish('timeout'), options.timeoutMs);
    socket.on('connect', () => {
      localPort = socket.localPort ?? 0;
      socket.write(payload);
    });
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      hash.update(chunk);
      received += chunk.length;
      if (received >= bytes) finish(received === bytes ? undefined : 'more bytes than sent');
    });
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
  });
}

async function hold(target: string, connections: number, timeoutMs: number): Promise<void> {
  const open: net.Socket[] = [];
  const keep = (socket: net.Socket): void => {
    socket.on('error', () => undefined);
    open.push(socket);
  };
  const ready = await Promise.all(
    Array.from({ length: connections }, () => echoOnce(target, 64, { timeoutMs, keep })),
  );
  print({ ready });
  const release = new Promise<void>((resolve) => {
    const limit = setTimeout(resolve, HOLD_LIMIT_MS);
    process.stdin.resume();
    process.stdin.once('end', () => (clearTimeout(limit), resolve()));
    process.stdin.once('close', () => (clearTimeout(limit), resolve()));
  });
  await release;
  for (const socket of open) socket.destroy();
  print({ closed: open.length });
  process.exit(0);
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function count(text: string | undefined, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what} must be a whole number, got ${text}`);
  return n;
}

const [mode, target = '', ...rest] = process.argv.slice(2);
switch (mode) {
  case 'probe':
    print(await probe(target, count(rest[0], 'timeoutMs')));
    break;
  case 'echo': {
    const [connections, bytes, timeoutMs] = [
      count(rest[0], 'connections'),
      count(rest[1], 'bytes'),
      count(rest[2], 'timeoutMs'),
    ];
    print(
      await Promise.all(
        Array.from({ length: connections }, () => echoOnce(target, bytes, { timeoutMs })),
      ),
    );
    break;
  }
  case 'hold':
    await hold(target, count(rest[0], 'connections'), count(rest[1], 'timeoutMs'));
    break;
  default:
    process.stderr.write('usage: tcp-client probe|echo|hold <host:port> ...\n');
    process.exit(2);
}
