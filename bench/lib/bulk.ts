import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';

/** Bytes per write call on both the baseline and the tunnel, so they are compared like for like. */
export const writeChunkSize = 64 * 1024;

const source = randomBytes(writeChunkSize);

/**
 * Writes an 8-byte big-endian length, then `total` bytes (one random chunk, repeated),
 * honouring backpressure. The prefix lets the sink acknowledge without relying on half-close,
 * which a plain TLS socket does not offer reliably.
 */
export async function sendBulk(stream: Writable, total: number): Promise<void> {
  const prefix = Buffer.allocUnsafe(8);
  prefix.writeBigUInt64BE(BigInt(total));
  stream.write(prefix);
  let sent = 0;
  while (sent < total) {
    const n = Math.min(writeChunkSize, total - sent);
    sent += n;
    if (!stream.write(n === writeChunkSize ? source : source.subarray(0, n))) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error): void => {
          stream.off('drain', onDrain);
          stream.off('error', done);
          stream.off('close', onClose);
          if (err) reject(err);
          else resolve();
        };
        const onDrain = (): void => done();
        const onClose = (): void => done(new Error('stream closed during bulk send'));
        stream.on('drain', onDrain);
        stream.on('error', done);
        stream.on('close', onClose);
      });
    }
  }
}

/**
 * The sink side of {@link sendBulk}: reads the length prefix, discards that many bytes, and
 * resolves with the count; rejects on error, or on end or close before all bytes came.
 */
export function receiveBulk(stream: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let header = Buffer.alloc(0);
    let expected = -1;
    let bytes = 0;
    const finish = (err?: Error): void => {
      stream.off('data', onData);
      stream.off('end', onEarlyEnd);
      stream.off('close', onEarlyEnd);
      stream.off('error', finish);
      if (err) reject(err);
      else resolve(bytes);
    };
    const onData = (chunk: Buffer): void => {
      let body = chunk;
      if (expected < 0) {
        header = Buffer.concat([header, chunk]);
        if (header.length < 8) return;
        expected = Number(header.readBigUInt64BE(0));
        body = header.subarray(8);
      }
      bytes += body.length;
      if (bytes > expected)
        finish(new Error(`sink got ${bytes} bytes, more than the announced ${expected}`));
      else if (bytes === expected) finish();
    };
    const onEarlyEnd = (): void => finish(new Error(`ended after ${bytes} of ${expected} bytes`));
    stream.on('data', onData);
    stream.on('end', onEarlyEnd);
    stream.on('close', onEarlyEnd);
    stream.on('error', finish);
  });
}

/** Reads one '\n'-terminated line (the sink's byte count acknowledgement). */
export function readLine(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) finish(undefined, text.slice(0, nl));
    };
    const onEnd = (): void => finish(new Error(`ended before a full line (got "${text}")`));
    const finish = (err?: Error, line?: string): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', finish);
      if (err) reject(err);
      else resolve(line ?? '');
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', finish);
  });
}

/** Gbit/s for `bytes` moved in `ms` milliseconds. */
export function gbitPerSecond(bytes: number, ms: number): number {
  return (bytes * 8) / (ms / 1000) / 1e9;
}
