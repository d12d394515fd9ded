/** Receives a chunked body's data (never empty) and its end. */
export interface ChunkedDecoderHandler {
  onData(chunk: Buffer): void;
  /** The last chunk and the trailer section have been read. */
  onEnd(): void;
}

const SIZE = 0;
const DATA = 1;
const DATA_END = 2;
const TRAILERS = 3;
const DONE = 4;
// Where a chunk-size line is: in the size, in whitespace after it, in an extension.
const IN_SIZE = 0;
const AFTER_SIZE = 1;
const IN_EXT = 2;

/**
 * Decodes the chunked transfer coding (RFC 9112 §7.1) incrementally, for any split of the input:
 * chunk data is handed out as views of the input, extensions and trailers are skipped within
 * limits. Invalid input throws an Error whose message says why.
 */
export class ChunkedDecoder {
  readonly #handler: ChunkedDecoderHandler;
  readonly #maxTrailerBytes: number;
  #state = SIZE;
  #remaining = 0;
  #size = 0;
  #digits = 0;
  #ext = IN_SIZE;
  /** A CR was read: only LF may follow (a bare CR or LF would end lines other parsers don't). */
  #cr = false;
  #lineBytes = 0;
  #trailerBytes = 0;

  constructor(handler: ChunkedDecoderHandler, maxTrailerBytes = 65536) {
    this.#handler = handler;
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  /** True once the whole body has been decoded. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Decodes from `data[off]`; returns where the body ended (the rest belongs to what follows it)
   * or `data.length`.
   */
  execute(data: Buffer, off = 0): number {
    let at = off;
    while (at < data.length && this.#state !== DONE) {
      switch (this.#state) {
        case SIZE:
          at = this.#readSize(data, at);
          break;
        case DATA:
          at = this.#readData(data, at);
          break;
        case DATA_END:
          at = this.#readDataEnd(data, at);
          break;
        default:
          at = this.#readTrailers(data, at);
      }
    }
    return at;
  }

  #readSize(data: Buffer, start: number): number {
    let off = start;
    while (off < data.length) {
      const c = data[off++] as number;
      if (this.#cr || c === 10) {
        if (!this.#cr || c !== 10) throw new Error('chunk size line not ended by CRLF');
        this.#endSizeLine();
        return off;
      }
      if (c === 13) this.#cr = true;
      else if (this.#ext !== IN_SIZE) this.#readExtension(c);
      else {
        const digit = hexValue(c);
        if (digit >= 0) {
          if (++this.#digits > 12) throw new Error('chunk size too large');
          this.#size = this.#size * 16 + digit;
        } else if (c === 59 /* ; */ || c === 32 || c === 9) {
          this.#ext = c === 59 ? IN_EXT : AFTER_SIZE;
          this.#lineBytes = 0;
        } else throw new Error('bad chunk size');
      }
    }
    return off;
  }

  /** A byte after the size: only whitespace up to `;`, then no controls but tab. */
  #readExtension(c: number): void {
    if (++this.#lineBytes > 4096) throw new Error('chunk extension too long');
    if (this.#ext === IN_EXT) {
      if ((c < 32 && c !== 9) || c === 127) throw new Error('bad chunk extension');
    } else if (c === 59) this.#ext = IN_EXT;
    else if (c !== 32 && c !== 9) throw new Error('bad chunk size');
  }

  #endSizeLine(): void {
    if (this.#digits === 0) throw new Error('chunk size missing');
    if (this.#size === 0) {
      this.#state = TRAILERS;
      this.#lineBytes = 0;
    } else {
      this.#state = DATA;
      this.#remaining = this.#size;
    }
    this.#size = 0;
    this.#digits = 0;
    this.#ext = IN_SIZE;
    this.#cr = false;
  }

  #readData(data: Buffer, off: number): number {
    const n = Math.min(this.#remaining, data.length - off);
    this.#remaining -= n;
    if (this.#remaining === 0) {
      this.#state = DATA_END;
      this.#lineBytes = 0;
    }
    this.#handler.onData(off === 0 && n === data.length ? data : data.subarray(off, off + n));
    return off + n;
  }

  #readDataEnd(data: Buffer, off: number): number {
    const c = data[off] as number;
    if (c === 13 && this.#lineBytes === 0) {
      this.#lineBytes = 1;
      return off + 1;
    }
    if (c !== 10 || this.#lineBytes === 0) throw new Error('chunk not followed by CRLF');
    this.#state = SIZE;
    return off + 1;
  }

  #readTrailers(data: Buffer, start: number): number {
    let off = start;
    while (off < data.length) {
      const c = data[off++] as number;
      if (this.#cr || c === 10) {
        if (!this.#cr || c !== 10) throw new Error('trailer line not ended by CRLF');
        this.#cr = false;
        if (this.#lineBytes === 0) {
          this.#state = DONE;
          this.#handler.onEnd();
          return off;
        }
        this.#lineBytes = 0;
      } else if (c === 13) this.#cr = true;
      else {
        this.#lineBytes++;
        if (++this.#trailerBytes > this.#maxTrailerBytes)
          throw new Error('trailer section too large');
      }
    }
    return off;
  }
}

/** The value of a hexadecimal digit's character code, or -1. */
export function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}
