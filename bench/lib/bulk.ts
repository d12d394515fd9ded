import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';

/** Bytes per write call on both the baseline and the tunnel, so they are compared like for like. */
export const writeChunkSize = 64 * 1024;

const source = randomBytes(writeChunkSize);

/** Writes `total` bytes (one random chunk, repeated) honouring backpressure, then ends the stream. */
export async function sendBulk(stream: Writable, total: number): Promise<void> {
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
  stream.end();
}

/** Counts bytes until 'end' (discarding them); rejects on error or on close without end. */
export function countUntilEnd(stream: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.once('end', () => resolve(bytes));
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`closed before end after ${bytes} bytes`)));
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
