// Tunnel over TLS between two processes, compared with a plain Node TLS socket pipe between
// the same two processes: (a) baseline TLS pipe, (b) one MuxStream, (c) 100 concurrent
// MuxStreams. Bytes flow one way (this process → the child's sinks); both paths use TLS 1.3
// with TLS_AES_128_GCM_SHA256 and the same 64 KiB writes.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { MuxSession } from '../../src/tunnel/index.js';
import { createSelfSignedCert } from '../../test/support/tls-cert.js';
import { gbitPerSecond, readLine, sendBulk, writeChunkSize } from '../lib/bulk.js';
import type { SinkServerConfig, SinkServerReady } from '../peers/tls-sink-server.js';
import type { Result, Suite, SuiteContext } from '../suite.js';

const MiB = 1024 * 1024;
const cipher = 'TLS_AES_128_GCM_SHA256';
const runs = 3;
const target = 0.9;
const streamCount = 100;

interface Child {
  process: ChildProcessWithoutNullStreams;
  ready: SinkServerReady;
}

async function startChild(config: SinkServerConfig, signal: AbortSignal): Promise<Child> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '../peers/tls-sink-server.js');
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'], signal });
  child.on('error', () => {}); // AbortSignal kills surface here; the suite reports the abort
  child.stderr.pipe(process.stderr);
  child.stdin.write(`${JSON.stringify(config)}\n`);
  const lines = createInterface({ input: child.stdout });
  const [line] = (await once(lines, 'line', {
    signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
  })) as [string];
  lines.close();
  return { process: child, ready: JSON.parse(line) as SinkServerReady };
}

async function tlsConnect(port: number, ca: string): Promise<TLSSocket> {
  const socket = connect({
    host: '127.0.0.1',
    port,
    ca,
    servername: 'localhost',
    minVersion: 'TLSv1.3',
    ciphers: cipher,
  });
  await once(socket, 'secureConnect');
  const negotiated = socket.getCipher();
  if (negotiated.name !== cipher || socket.getProtocol() !== 'TLSv1.3') {
    throw new Error(
      `negotiated ${socket.getProtocol()} ${negotiated.name}, wanted TLSv1.3 ${cipher}`,
    );
  }
  return socket;
}

/** Sends `bytes` over `stream`, waits for the sink's count and checks it; resolves when acknowledged. */
async function transfer(
  stream: TLSSocket | ReturnType<MuxSession['openStream']>,
  bytes: number,
): Promise<void> {
  const [ack] = await Promise.all([readLine(stream), sendBulk(stream, bytes)]);
  if (Number(ack) !== bytes) throw new Error(`sink counted ${ack} bytes, sent ${bytes}`);
  stream.end();
}

async function plainRun(port: number, ca: string, bytes: number): Promise<number> {
  const socket = await tlsConnect(port, ca);
  try {
    const start = performance.now();
    await transfer(socket, bytes);
    return performance.now() - start;
  } finally {
    socket.destroy();
  }
}

async function muxRun(session: MuxSession, streams: number, bytes: number): Promise<number> {
  const share = Math.floor(bytes / streams / writeChunkSize) * writeChunkSize;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: streams }, (_, i) => {
      const stream = session.openStream();
      // The sink may still hold its side open when the suite ends the session, which then
      // errors the stream; the measurement is already taken by then.
      stream.on('error', () => {});
      return transfer(stream, i === streams - 1 ? bytes - share * (streams - 1) : share);
    }),
  );
  return performance.now() - start;
}

interface Case {
  label: string;
  measure: (bytes: number) => Promise<number>;
  best: number;
  all: number[];
}

async function run(ctx: SuiteContext): Promise<Result[]> {
  const total = ctx.quick ? 512 * MiB : 2048 * MiB;
  const { cert, key } = await createSelfSignedCert();
  const child = await startChild({ cert, key, ciphers: cipher, session: {} }, ctx.signal);
  const muxSocket = await tlsConnect(child.ready.muxPort, cert);
  const session = new MuxSession(muxSocket, { role: 'client' });
  session.on('error', () => {});
  try {
    const cases: Case[] = [
      {
        label: 'Node TLS socket pipe (baseline)',
        measure: (b) => plainRun(child.ready.plainPort, cert, b),
        best: 0,
        all: [],
      },
      { label: 'one MuxStream', measure: (b) => muxRun(session, 1, b), best: 0, all: [] },
      {
        label: `${streamCount} concurrent MuxStreams (aggregate)`,
        measure: (b) => muxRun(session, streamCount, b),
        best: 0,
        all: [],
      },
    ];
    for (const c of cases) await c.measure(64 * MiB); // warm-up: JIT, TLS session, window growth
    // Interleaved rounds, so drift in machine load touches every case alike.
    for (let round = 0; round < runs; round++) {
      for (const c of cases) {
        ctx.signal.throwIfAborted();
        const gbit = gbitPerSecond(total, await c.measure(total));
        c.all.push(gbit);
        c.best = Math.max(c.best, gbit);
        ctx.log(`round ${round + 1}/${runs} ${c.label}: ${gbit.toFixed(2)} Gbit/s`);
      }
    }
    const [pipe, one, many] = cases as [Case, Case, Case];
    ctx.note(
      `TLS 1.3 ${cipher} on both paths, self-signed ECDSA P-256 certificate; ${total / MiB} MiB per run in 64 KiB writes, one way, into a sink in a child process that acknowledges the byte count.`,
    );
    ctx.note(
      `Best of ${runs} interleaved runs after a 64 MiB warm-up; all runs (Gbit/s): ${cases.map((c) => `${c.label} ${c.all.map((v) => v.toFixed(2)).join(' / ')}`).join('; ')}.`,
    );
    ctx.note(
      `MuxSession with default options (windows auto-tune from 256 KiB up to 16 MiB); the ${streamCount}-stream case splits the same total evenly.`,
    );
    const baseline = { case: pipe.label, value: pipe.best };
    return [
      { case: pipe.label, value: pipe.best, unit: 'Gbit/s' },
      { case: one.label, value: one.best, unit: 'Gbit/s', baseline, target },
      { case: many.label, value: many.best, unit: 'Gbit/s', baseline, target },
    ];
  } finally {
    session.destroy();
    muxSocket.destroy();
    child.process.stdin.end();
    child.process.kill();
  }
}

/** The TLS tunnel throughput suite. */
const suite: Suite = {
  name: 'tls-tunnel',
  title: 'tunnel over TLS between two processes vs a plain TLS pipe',
  timeoutMs: 10 * 60_000,
  run,
};
export default suite;
