import { Buffer } from 'node:buffer';
import type { PosternError } from '../core/index.js';
import { checkHeader, FrameType, HEADER_SIZE } from './frame.js';
import type { Frame, FrameHeader } from './frame.js';

/** Default largest data payload the decoder accepts: 16 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/** Receives what a {@link FrameDecoder} decodes. */
export interface FrameHandler {
  /** A whole frame: every non-data frame, and data frames unless the decoder streams them. */
  onFrame(frame: Frame): void;
  /**
   * Streaming mode only: the next piece of a data frame's payload, a zero-copy view of the
   * input. `end` is true on the last piece; an empty data frame arrives as one empty piece.
   */
  onDataPart?(header: FrameHeader, part: Buffer, end: boolean): void;
}

/** Options for {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest data payload accepted, in bytes. Default {@link DEFAULT_MAX_FRAME_SIZE}. */
  maxFrameSize?: number;
  /**
   * Deliver data payloads piece by piece through `onDataPart` as they arrive instead of
   * whole, so payloads are never copied or held. Default false.
   */
  streaming?: boolean;
}

/** The decoder's position in the byte stream. */
export type FrameDecoderState = 'header' | 'payload' | 'failed';

/**
 * An explicit state machine turning a byte stream, chunked in any way, into yamux frames.
 * Malformed input throws a coded PosternError and leaves the decoder failed for good.
 * Input chunks must not be modified after `push` because payloads are views of them.
 */
export class FrameDecoder {
  readonly #handler: FrameHandler;
  readonly #maxFrameSize: number;
  readonly #streaming: boolean;
  #state: FrameDecoderState = 'header';
  #error: PosternError | undefined;
  readonly #headerBuf = Buffer.allocUnsafe(HEADER_SIZE);
  #headerFill = 0;
  #current: Frame | undefined;
  #remaining = 0;
  #parts: Buffer[] = [];
  #partBytes = 0;

  constructor(handler: FrameHandler, options: FrameDecoderOptions = {}) {
    this.#handler = handler;
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.#streaming = options.streaming ?? false;
    if (this.#streaming && handler.onDataPart === undefined) {
      throw new TypeError('FrameDecoder streaming mode needs handler.onDataPart');
    }
  }

  /** Where the decoder is: reading a header, reading a payload, or failed. */
  get state(): FrameDecoderState {
    return this.#state;
  }

  /** The error that failed the decoder, if any. */
  get error(): PosternError | undefined {
    return this.#error;
  }

  /** Bytes held between calls: a partial header plus, outside streaming mode, a partial payload. */
  get bufferedBytes(): number {
    return this.#headerFill + this.#partBytes;
  }

  /** Consumes one chunk, calling the handler for every frame (or piece) completed by it. */
  push(chunk: Buffer): void {
    if (this.#error !== undefined) throw this.#error;
    let offset = 0;
    const end = chunk.length;
    while (offset < end) {
      if (this.#state === 'header') offset = this.#readHeader(chunk, offset);
      else offset = this.#readPayload(chunk, offset);
    }
  }

  #readHeader(chunk: Buffer, offset: number): number {
    let source = chunk;
    let at = offset;
    if (this.#headerFill === 0 && chunk.length - offset >= HEADER_SIZE) {
      offset += HEADER_SIZE;
    } else {
      const take = Math.min(HEADER_SIZE - this.#headerFill, chunk.length - offset);
      chunk.copy(this.#headerBuf, this.#headerFill, offset, offset + take);
      this.#headerFill += take;
      offset += take;
      if (this.#headerFill < HEADER_SIZE) return offset;
      this.#headerFill = 0;
      source = this.#headerBuf;
      at = 0;
    }
    // One object per frame, always of the same shape; data payloads are filled in later.
    const frame: Frame = {
      type: source[at + 1] as FrameType,
      flags: source.readUInt16BE(at + 2),
      streamId: source.readUInt32BE(at + 4),
      length: source.readUInt32BE(at + 8),
      payload: EMPTY,
    };
    const error = checkHeader(source[at] ?? 0, frame, this.#maxFrameSize);
    if (error !== undefined) this.#fail(error);
    this.#startFrame(frame);
    return offset;
  }

  #startFrame(frame: Frame): void {
    if (frame.type !== FrameType.Data) {
      this.#handler.onFrame(frame);
    } else if (frame.length > 0) {
      this.#current = frame;
      this.#remaining = frame.length;
      this.#state = 'payload';
    } else if (this.#streaming) {
      this.#handler.onDataPart?.(frame, EMPTY, true);
    } else {
      this.#handler.onFrame(frame);
    }
  }

  #readPayload(chunk: Buffer, offset: number): number {
    const header = this.#current as Frame;
    const take = Math.min(this.#remaining, chunk.length - offset);
    const part =
      offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take);
    this.#remaining -= take;
    const done = this.#remaining === 0;
    if (done) {
      this.#state = 'header';
      this.#current = undefined;
    }
    if (this.#streaming) {
      this.#handler.onDataPart?.(header, part, done);
    } else if (done && this.#parts.length === 0) {
      header.payload = part;
      this.#handler.onFrame(header);
    } else {
      this.#collect(header, part, done);
    }
    return offset + take;
  }

  #collect(header: Frame, part: Buffer, done: boolean): void {
    this.#parts.push(part);
    this.#partBytes += part.length;
    if (!done) return;
    // The payload was split across chunks: this is the only place the decoder copies.
    header.payload = Buffer.concat(this.#parts, this.#partBytes);
    this.#parts = [];
    this.#partBytes = 0;
    this.#handler.onFrame(header);
  }

  #fail(error: PosternError): never {
    this.#error = error;
    this.#state = 'failed';
    this.#parts = [];
    this.#partBytes = 0;
    this.#headerFill = 0;
    throw error;
  }
}
