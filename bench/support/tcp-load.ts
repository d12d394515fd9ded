// Load generators on plain TCP against an echo server (directly or through a tunnel):
// new connections per second, and round-trip latency of small messages on one connection.
import type net from 'node:net';
import { connectTo } from './ports.js';

/** What the connection-rate load measured. */
export interface ConnectionRate {
  /** Completed connections: connect, 1 byte echoed, both sides closed. */
  connections: number;
  errors: number;
  /** First error message, to show why connections failed. */
  firstError?: string;
  ms: number;
  /** Completed connections per second. */
  perSecond: number;
}

/** Options of {@link connectionRate}. */
export interface ConnectionRateOptions {
  /** Loops running at once; default 8. */
  concurrency?: number;
  durationMs: number;
  signal: AbortSignal;
}

const oneByte = Buffer.from([0x2a]);

/** One connection's whole life: connect, send 1 byte, read it back, close, wait for the close. */
async function oneConnection(port: number): Promise<void> {
  const socket = await connectTo(port);
  await new Promise<void>((resolve, reject) => {
    // Never hang a loop on a path that lost the connection silently.
    socket.setTimeout(5_000, () => socket.destroy(new Error('connection stalled for 5 s')));
    let echoed = false;
    socket.once('data', () => {
      echoed = true;
      socket.end();
    });
    socket.once('error', reject);
    socket.once('close', (hadError) => {
      if (hadError) return; // 'error' rejected already
      if (echoed) resolve();
      else reject(new Error('closed before the echo'));
    });
    socket.write(oneByte);
  });
}

/**
 * Runs `concurrency` loops of {@link oneConnection} against 127.0.0.1:`port` for `durationMs`
 * and counts the connections that completed; a failed connection counts as an error and its
 * loop goes on.
 */
export async function connectionRate(
  port: number,
  options: ConnectionRateOptions,
): Promise<ConnectionRate> {
  const { concurrency = 8, durationMs, signal } = options;
  let connections = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline && !signal.aborted) {
      try {
        await oneConnection(port);
        connections++;
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const ms = performance.now() - start;
  const result: ConnectionRate = { connections, errors, ms, perSecond: (connections / ms) * 1000 };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}

/** Options of {@link pingPong}. */
export interface PingPongOptions {
  /** Measured round trips. */
  rounds: number;
  /** Round trips before measuring (JIT, buffers); default 200. */
  warmup?: number;
  /** Bytes per message; default 64. */
  size?: number;
  signal: AbortSignal;
}

/**
 * Sends `size` bytes on one connection, waits until all come back, and repeats: one latency
 * sample per measured round trip, in microseconds. Rejects if the connection fails or stalls.
 */
export async function pingPong(port: number, options: PingPongOptions): Promise<number[]> {
  const { rounds, warmup = 200, size = 64, signal } = options;
  const socket = await connectTo(port);
  try {
    return await exchange(socket, {
      total: warmup + rounds,
      warmup,
      payload: Buffer.alloc(size, 0x61),
      signal,
    });
  } finally {
    socket.destroy();
  }
}

function exchange(
  socket: net.Socket,
  o: { total: number; warmup: number; payload: Buffer; signal: AbortSignal },
): Promise<number[]> {
  const samples: number[] = [];
  return new Promise((resolve, reject) => {
    let done = 0;
    let pending = o.payload.length;
    let sentAt = 0n;
    const fail = (err: Error): void => {
      socket.off('data', onData);
      reject(err);
    };
    const send = (): void => {
      pending = o.payload.length;
      sentAt = process.hrtime.bigint();
      socket.write(o.payload);
    };
    const onData = (chunk: Buffer): void => {
      pending -= chunk.length;
      if (pending > 0) return;
      if (pending < 0) return fail(new Error('echo returned more bytes than were sent'));
      const micros = Number(process.hrtime.bigint() - sentAt) / 1000;
      if (done >= o.warmup) samples.push(micros);
      done++;
      if (done === o.total) {
        socket.off('data', onData);
        socket.setTimeout(0);
        resolve(samples);
      } else if (o.signal.aborted) {
        fail(new Error('aborted'));
      } else {
        send();
      }
    };
    socket.setTimeout(5_000, () => fail(new Error(`no echo for 5 s after ${done} round trips`)));
    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('close', () => fail(new Error(`closed after ${done} round trips`)));
    send();
  });
}
