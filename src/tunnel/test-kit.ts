// Helpers shared by the tunnel tests: real socket pairs, a controllable clock, hashing.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { EventEmitter } from 'node:events';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Clock, TimerHandle } from '../core/index.js';
import { MuxSession } from './session.js';
import type { SessionOptions } from './options.js';
import type { MuxStream } from './stream.js';
import { opensslSelfSigned } from '../../test/support/openssl-cert.js';

/** Two connected TCP sockets on 127.0.0.1. */
export async function tcpPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [serverSide] = await accepted;
  server.close();
  return [client, serverSide];
}

/** A self-signed P-256 certificate for 127.0.0.1 made with openssl, once per process. */
export function selfSignedCert(): { key: string; cert: string } {
  return opensslSelfSigned('/CN=postern-test', 'IP:127.0.0.1');
}

/** Two connected TLS sockets on 127.0.0.1 (client verifies the self-signed certificate). */
export async function tlsPair(): Promise<[tls.TLSSocket, tls.TLSSocket]> {
  const { key, cert } = selfSignedCert();
  const server = tls.createServer({ key, cert });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
  const client = tls.connect({ port, host: '127.0.0.1', ca: cert });
  await once(client, 'secureConnect');
  const [serverSide] = await accepted;
  server.close();
  return [client, serverSide];
}

/** A client and a server session over a fresh socket pair. */
export interface SessionPair {
  client: MuxSession;
  server: MuxSession;
  /** Destroys both sessions and sockets. */
  dispose: () => void;
}

/** Builds a session pair over TCP (default) or TLS. */
export async function sessionPair(
  options: {
    transport?: 'tcp' | 'tls';
    client?: Partial<SessionOptions>;
    server?: Partial<SessionOptions>;
  } = {},
): Promise<SessionPair> {
  const [a, b] = options.transport === 'tls' ? await tlsPair() : await tcpPair();
  const client = new MuxSession(a, { keepAliveIntervalMs: 0, ...options.client, role: 'client' });
  const server = new MuxSession(b, { keepAliveIntervalMs: 0, ...options.server, role: 'server' });
  return {
    client,
    server,
    dispose: () => {
      client.destroy();
      server.destroy();
      a.destroy();
      b.destroy();
    },
  };
}

/** Reads a stream to its end and returns everything it carried. */
export function readAll(stream: Duplex): Promise<Buffer> {
  // Not `for await`: the async iterator destroys the Duplex at the end, which would reset
  // the still-open writable side.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Hex SHA-256 of a buffer. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes (fast; tests need integrity, not secrecy). */
export function patternBytes(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed | 1;
  for (let i = 0; i < size; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Writes `data` in pieces of `piece` bytes honouring backpressure, then ends the stream. */
export async function writeAll(stream: MuxStream, data: Buffer, piece = 64 * 1024): Promise<void> {
  for (let off = 0; off < data.length; off += piece) {
    if (!stream.write(data.subarray(off, off + piece))) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

/** Resolves with the first argument of the next `event` (unlike events.once, never rejects on 'error'). */
export function nextEvent(emitter: EventEmitter, event: string): Promise<unknown> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

/** Attaches a no-op error listener (for streams a test abandons) and returns the stream. */
export function quiet<T extends EventEmitter>(emitter: T): T {
  emitter.on('error', () => {});
  return emitter;
}

/** Rejects when `promise` takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A clock whose time only moves when the test says so. */
export class FakeClock implements Clock {
  #now = 1_000_000;
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #nextId = 0;

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.#now + ms, fn, id: this.#nextId++ };
    this.#timers.push(timer);
    return timer as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t !== handle);
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers
        .filter((t) => t.at <= end)
        .sort((x, y) => x.at - y.at || x.id - y.id)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = end;
  }
}

/** A transport that accepts every write and never delivers a byte: a silent peer. */
export function silentTransport(): Duplex {
  return new Duplex({
    read() {},
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}

/**
 * Two in-memory Duplexes wired back to back; bytes written on one side are delivered to
 * the other on a later macrotask, like a socket, and each side honours the other's backpressure.
 */
export function memoryPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (peer: number): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        setImmediate(() => {
          sides[peer]?.push(Buffer.from(chunk));
          cb();
        });
      },
      final(cb) {
        setImmediate(() => {
          sides[peer]?.push(null);
          cb();
        });
      },
    });
  sides.push(make(1), make(0));
  return [sides[0] as Duplex, sides[1] as Duplex];
}
