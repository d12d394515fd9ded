import { Buffer } from 'node:buffer';
import { messageErrors } from './errors.js';

/** Bytes of the length prefix in front of every control or dial message. */
export const MESSAGE_HEADER_BYTES = 4;

/** Default ceiling for one message; control messages carry app lists, so they may be large. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Encodes one message as a 4-byte big-endian length followed by UTF-8 JSON. */
export function encodeMessage(message: object, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Buffer {
  // Written straight behind its prefix: no intermediate buffer to copy (a dial header and its
  // result are encoded for every session).
  const json = JSON.stringify(message);
  const length = Buffer.byteLength(json, 'utf8');
  if (length > maxBytes) throw messageErrors.tooLarge(length, maxBytes);
  const out = Buffer.allocUnsafe(MESSAGE_HEADER_BYTES + length);
  out.writeUInt32BE(length, 0);
  out.write(json, MESSAGE_HEADER_BYTES, 'utf8');
  return out;
}

type DecoderState = 'length' | 'body' | 'failed';

/**
 * Decodes a byte stream of length-prefixed JSON messages, accepting any chunking.
 * An explicit state machine: it buffers at most one message body, never more than `maxBytes`.
 */
export class MessageDecoder {
  readonly #maxBytes: number;
  #state: DecoderState = 'length';
  #chunks: Buffer[] = [];
  #buffered = 0;
  #need = MESSAGE_HEADER_BYTES;

  constructor(options: { maxBytes?: number } = {}) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Bytes held that belong to a message not yet complete. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Feeds bytes; returns the complete messages (parsed JSON objects) and any bytes that
   * follow the last complete message when `stopAfter` messages were read (the raw tail).
   */
  push(chunk: Buffer, stopAfter = Infinity): { messages: unknown[]; rest: Buffer } {
    if (this.#state === 'failed') throw messageErrors.decoderFailed();
    const messages: unknown[] = [];
    let offset = 0;
    while (offset < chunk.length && messages.length < stopAfter) {
      const take = Math.min(this.#need - this.#buffered, chunk.length - offset);
      this.#chunks.push(chunk.subarray(offset, offset + take));
      this.#buffered += take;
      offset += take;
      if (this.#buffered < this.#need) break;
      const whole = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      this.#chunks = [];
      this.#buffered = 0;
      if (this.#state === 'length') this.#startBody(whole.readUInt32BE(0));
      else messages.push(this.#finishBody(whole));
    }
    return { messages, rest: chunk.subarray(offset) };
  }

  #startBody(length: number): void {
    if (length > this.#maxBytes) {
      this.#state = 'failed';
      throw messageErrors.tooLarge(length, this.#maxBytes);
    }
    if (length === 0) {
      this.#state = 'failed';
      throw messageErrors.malformed('empty message');
    }
    this.#state = 'body';
    this.#need = length;
  }

  #finishBody(body: Buffer): unknown {
    this.#state = 'length';
    this.#need = MESSAGE_HEADER_BYTES;
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (cause) {
      this.#state = 'failed';
      throw messageErrors.malformed('body is not JSON', cause);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.#state = 'failed';
      throw messageErrors.malformed('body is not a JSON object');
    }
    return value;
  }
}
