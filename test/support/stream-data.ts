import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';

/** Fills `size` bytes from a xorshift32 sequence seeded with `seed`: cheap, deterministic, not compressible. */
export function patternChunk(seed: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = (seed * 0x9e3779b1 + 1) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf.writeUInt32LE(x >>> 0, i);
  }
  for (; i < size; i++) buf[i] = (x >>> (8 * (i & 3))) & 0xff;
  return buf;
}

/** Options for {@link writePattern}. */
export interface WritePatternOptions {
  /** Seed of the pattern; default 1. */
  seed?: number;
  /** Bytes per write call; default 64 KiB. */
  chunkSize?: number;
  /** Call `end()` after the last byte (sends FIN on a mux stream); default true. */
  end?: boolean;
}

/** The exact bytes {@link writePattern} writes for the same `total`, `seed` and `chunkSize`. */
export function patternBytes(total: number, options: WritePatternOptions = {}): Buffer {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const base = options.seed ?? 1;
  const parts: Buffer[] = [];
  for (let n = 0, made = 0; made < total; n++) {
    const chunk = patternChunk(base * 1_000_003 + n, Math.min(chunkSize, total - made));
    parts.push(chunk);
    made += chunk.length;
  }
  return Buffer.concat(parts, total);
}

/** Writes `total` pattern bytes honouring backpressure and resolves with their sha256 (hex). */
export async function writePattern(
  stream: Writable,
  total: number,
  options: WritePatternOptions = {},
): Promise<string> {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  // One chunk repeated would hide reordering bugs; vary it per chunk via the seed.
  const base = options.seed ?? 1;
  const hash = createHash('sha256');
  let sent = 0;
  for (let n = 0; sent < total; n++) {
    const chunk = patternChunk(base * 1_000_003 + n, Math.min(chunkSize, total - sent));
    hash.update(chunk);
    sent += chunk.length;
    if (!stream.write(chunk)) await drained(stream);
  }
  if (options.end ?? true) stream.end();
  return hash.digest('hex');
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('stream closed while waiting for drain'));
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** What {@link readAll} saw. */
export interface ReadAllResult {
  bytes: number;
  sha256: string;
  /** The data itself, kept only up to `keep` bytes. */
  head: Buffer;
}

/** Options for {@link readAll}. */
export interface ReadAllOptions {
  /** Reject if `end` has not come after this long; default 60 s. */
  timeoutMs?: number;
  /** Keep this many leading bytes in `head`; default 4 KiB. */
  keep?: number;
}

/** Reads until 'end', hashing everything; rejects on error, on close without end, or on timeout. */
export function readAll(stream: Readable, options: ReadAllOptions = {}): Promise<ReadAllResult> {
  const keep = options.keep ?? 4096;
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let kept = 0;
  let bytes = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish(new Error(`readAll: no end after ${options.timeoutMs ?? 60_000} ms (${bytes} bytes)`));
    }, options.timeoutMs ?? 60_000);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', finish);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve({ bytes, sha256: hash.digest('hex'), head: Buffer.concat(head) });
    };
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      hash.update(chunk);
      if (kept < keep) {
        head.push(chunk.subarray(0, keep - kept));
        kept += Math.min(chunk.length, keep - kept);
      }
    };
    const onEnd = (): void => finish();
    const onClose = (): void => finish(new Error(`readAll: closed before end (${bytes} bytes)`));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', finish);
    stream.on('close', onClose);
  });
}

/** Reads exactly `n` bytes (for a mode byte or a header); rejects on end, error or timeout first. */
export function readExactly(stream: Readable, n: number, timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`readExactly(${n}): timed out`)), timeoutMs);
    const done = (err?: Error, value?: Buffer): void => {
      clearTimeout(timer);
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', done);
      if (err) reject(err);
      else resolve(value ?? Buffer.alloc(0));
    };
    const onReadable = (): void => {
      const chunk = stream.read(n) as Buffer | null;
      if (chunk !== null) done(undefined, chunk);
    };
    const onEnd = (): void => done(new Error(`readExactly(${n}): stream ended first`));
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', done);
    onReadable();
  });
}
