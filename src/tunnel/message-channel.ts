import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { encodeMessage, MessageDecoder, parseMessage, type Message } from '../protocol/index.js';
import { CoreErrors } from '../core/index.js';
import { TunnelErrors } from './errors.js';

/**
 * Reads exactly one message from the head of a stream and leaves every byte after it in
 * the stream (unshifted), so the caller can go on to pipe raw data. Resolves undefined when
 * the stream ends first.
 *
 * Reads with 'data' events rather than 'readable': a chunk pushed into a flowing stream is
 * handed over in the push itself, where 'readable' costs a deferred event and a read() per
 * chunk; this runs for every session on both ends of the tunnel (the dial header and its
 * result). Once the message is read the stream is left as 'readable' left it: not flowing
 * and not paused, so the next 'data' listener or pipe starts it again.
 */
export function readMessage(
  stream: Duplex,
  options: { maxBytes?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Message | undefined> {
  const decoder = new MessageDecoder(
    options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes },
  );
  return new Promise((resolve, reject) => {
    let done = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => finish(TunnelErrors.messageTimeout(options.timeoutMs ?? 0)),
            options.timeoutMs,
          );
    const finish = (err: Error | undefined, message?: Message, rest?: Buffer): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onEnd);
      options.signal?.removeEventListener('abort', onAbort);
      // Stop the flow without pause(): later chunks wait in the buffer, behind the rest.
      (stream as { readableFlowing: boolean | null }).readableFlowing = null;
      if (rest !== undefined && rest.length > 0) stream.unshift(rest);
      if (err) reject(err);
      else resolve(message);
    };
    const onData = (chunk: Buffer): void => {
      let result;
      try {
        result = decoder.push(chunk, 1);
      } catch (err) {
        finish(err as Error);
        return;
      }
      const [first] = result.messages;
      if (first === undefined) return;
      let message: Message;
      try {
        message = parseMessage(first) ?? {
          v: 1,
          type: 'error',
          code: 'POSTERN_ERR_PEER',
          message: 'unknown message type',
        };
      } catch (err) {
        finish(err as Error, undefined, result.rest);
        return;
      }
      finish(undefined, message, result.rest);
    };
    const onEnd = (): void => finish(undefined, undefined);
    const onError = (err: Error): void => finish(err);
    const onAbort = (): void => finish(CoreErrors.aborted('Reading a tunnel message'));
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    // A stream its owner paused is read all the same, as 'readable' would.
    if (stream.readableFlowing === false) stream.resume();
  });
}

/** Writes one message to a stream. */
export function writeMessage(stream: Duplex, message: Message): boolean {
  return stream.write(encodeMessage(message));
}

/**
 * A long-lived, message-framed conversation on one stream (the control stream). Emits
 * 'message' for each known message, 'close' once when the stream ends or fails.
 */
export class MessageChannel extends EventEmitter<{
  message: [Message];
  close: [Error | undefined];
}> {
  readonly #stream: Duplex;
  readonly #decoder: MessageDecoder;
  #closed = false;

  constructor(stream: Duplex, options: { maxBytes?: number } = {}) {
    super();
    this.#stream = stream;
    this.#decoder = new MessageDecoder(
      options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes },
    );
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.once('end', () => this.#close(undefined));
    stream.once('close', () => this.#close(undefined));
    stream.once('error', (err) => this.#close(err));
  }

  /** True once the stream ended or failed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a message; false when the channel is closed. */
  send(message: Message): boolean {
    if (this.#closed || this.#stream.destroyed || this.#stream.writableEnded) return false;
    this.#stream.write(encodeMessage(message));
    return true;
  }

  /** Ends the conversation (half-close, then the peer closes its side). */
  end(): void {
    if (!this.#stream.writableEnded) this.#stream.end();
  }

  /** Closes the stream at once. */
  destroy(err?: Error): void {
    this.#stream.destroy(err);
    this.#close(err);
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      for (const raw of this.#decoder.push(chunk).messages) {
        const message = parseMessage(raw);
        if (message) this.emit('message', message);
      }
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  #close(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close', err);
  }
}
