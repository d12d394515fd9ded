import { ChunkedDecoder } from './chunked-decoder.js';
import {
  headFields,
  ParsedHead,
  readField,
  type HeadFields,
  type ResponseHead,
} from './response-head.js';
import { switchRefusal } from './upgrade-answer.js';

export type { ResponseHead } from './response-head.js';

/** Receives what the parser finds; `onEnd` follows the last `onBody`. */
export interface ResponseParserHandler {
  onHead(head: ResponseHead): void;
  /** `last` is true when this chunk completes a Content-Length body. */
  onBody(chunk: Buffer, last: boolean): void;
  onEnd(): void;
  /**
   * A valid 101 to an Upgrade request (see {@link ResponseParser.expect}): `rest`, the bytes
   * after its head, belong to the new protocol, and the parser reads nothing more.
   */
  onSwitch?(head: ResponseHead, rest: Buffer): void;
}

/** Limits on what an upstream may send. */
export interface ResponseParserLimits {
  /** Largest status line plus header section, and largest trailer section. Default 65536. */
  readonly maxHeadBytes?: number;
  /** Most header fields. Default 256. */
  readonly maxHeaders?: number;
}

const HEAD = 0;
const LENGTH = 1;
const UNTIL_CLOSE = 2;
const CHUNKED = 3;
const DONE = 4;
/** After a 101: what follows is another protocol's. */
const SWITCHED = 5;

const STATUS_PREFIX = 'HTTP/1.';
const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * An incremental HTTP/1.1 response parser (RFC 9112): status line and headers, then a body
 * framed by Content-Length, chunked transfer coding (decoded) or the end of the connection.
 * Interim 1xx responses are skipped; a 101 ends parsing when the request was an Upgrade, and
 * throws otherwise. Invalid input throws an Error whose message says why.
 */
export class ResponseParser {
  readonly #handler: ResponseParserHandler;
  readonly #maxHeadBytes: number;
  readonly #maxHeaders: number;
  #state = DONE;
  #noBody = false;
  /** The protocols an Upgrade request asked for; undefined for other requests. */
  #upgrade: string | undefined;
  #pending: Buffer | undefined;
  #remaining = 0;
  #chunked: ChunkedDecoder | undefined;
  // A fresh connection counts as reusable until a response says otherwise.
  #keepAlive = true;
  #clean = true;

  constructor(handler: ResponseParserHandler, limits: ResponseParserLimits = {}) {
    this.#handler = handler;
    this.#maxHeadBytes = limits.maxHeadBytes ?? 65536;
    this.#maxHeaders = limits.maxHeaders ?? 256;
  }

  /**
   * Prepares for the response to the next request; `noBody` for responses to HEAD. `upgrade` is
   * an Upgrade request's Upgrade value: a 101 whose Upgrade names only protocols listed there
   * (RFC 9110 §7.8) goes to `onSwitch`; one without Upgrade, or naming others, throws.
   */
  expect(noBody: boolean, upgrade?: string): void {
    this.#state = HEAD;
    this.#noBody = noBody;
    this.#upgrade = upgrade;
    this.#pending = undefined;
    this.#keepAlive = false;
  }

  /** True once the whole response has been parsed. */
  get complete(): boolean {
    return this.#state === DONE;
  }

  /** True when the response is complete and the connection may be reused. */
  get reusable(): boolean {
    return this.#state === DONE && this.#keepAlive && this.#clean;
  }

  /** True while the body runs until the connection closes. */
  get readsUntilClose(): boolean {
    return this.#state === UNTIL_CLOSE;
  }

  /** Feeds bytes from the upstream. */
  execute(data: Buffer): void {
    let off = 0;
    const len = data.length;
    while (off < len) {
      switch (this.#state) {
        case HEAD:
          off = this.#readHead(data, off);
          break;
        case LENGTH:
          off = this.#readCounted(data, off);
          break;
        case UNTIL_CLOSE:
          this.#handler.onBody(off === 0 ? data : data.subarray(off), false);
          off = len;
          break;
        case CHUNKED:
          off = (this.#chunked as ChunkedDecoder).execute(data, off);
          break;
        default:
          // Bytes after a complete response: the upstream is confused; never reuse it.
          this.#clean = false;
          return;
      }
    }
  }

  /** The upstream closed: ends a close-delimited body; true when the response was complete. */
  finish(): boolean {
    if (this.#state === UNTIL_CLOSE) this.#end();
    return this.#state === DONE;
  }

  #readHead(data: Buffer, off: number): number {
    const prev = this.#pending;
    const rest = off === 0 ? data : data.subarray(off);
    const buf = prev ? Buffer.concat([prev, rest]) : rest;
    const end = buf.indexOf(CRLFCRLF, prev ? Math.max(0, prev.length - 3) : 0);
    // A head with LF-only line ends would never show CRLFCRLF: say so now rather than wait.
    if (hasBareLf(buf, prev ? prev.length : 0, end < 0 ? buf.length : end + 4))
      throw new Error('bare LF line ending in the response head (lines must end in CRLF)');
    if (end < 0) {
      if (buf.length > this.#maxHeadBytes)
        throw new Error(`header section over ${this.#maxHeadBytes} bytes`);
      // A copy: `data` may be a view of a read buffer that the next read overwrites.
      this.#pending = prev ? buf : Buffer.from(buf);
      return data.length;
    }
    if (end > this.#maxHeadBytes)
      throw new Error(`header section over ${this.#maxHeadBytes} bytes`);
    this.#pending = undefined;
    const next = off + end + 4 - (prev ? prev.length : 0);
    const switched = this.#parseHead(buf.toString('latin1', 0, end));
    if (switched === undefined) return next;
    this.#state = SWITCHED;
    this.#keepAlive = false;
    this.#handler.onSwitch?.(switched, data.subarray(next));
    return data.length;
  }

  /** Parses a head; returns it when it is a 101 that switches protocols. */
  #parseHead(text: string): ResponseHead | undefined {
    // Walks the lines with indexOf instead of split(): no array of line strings per response.
    let eol = text.indexOf('\r\n');
    if (eol < 0) eol = text.length;
    const statusLine = text.slice(0, eol);
    const code = statusCodeOf(statusLine);
    if (code < 0) throw new Error(`bad status line ${JSON.stringify(statusLine.slice(0, 80))}`);
    const fields = this.#parseFields(text, eol, statusLine.charCodeAt(7) === 48 /* 1.0 */);
    const reason = statusLine.length > 12 ? statusLine.slice(13) : '';
    if (code < 200) {
      if (code !== 101) return undefined; // interim response: the final one follows
      const asked = this.#upgrade;
      if (asked === undefined || this.#handler.onSwitch === undefined)
        throw new Error('unexpected 101 Switching Protocols');
      const refusal = switchRefusal(fields.upgrade, asked);
      if (refusal !== undefined) throw new Error(refusal);
      return new ParsedHead(code, reason, fields, false);
    }
    this.#startBody(code, reason, fields);
    return undefined;
  }

  /** The header lines after the status line, which ends at `from`; `close` as HTTP/1.0 implies. */
  #parseFields(text: string, from: number, close: boolean): HeadFields {
    const f = headFields(text, Math.min(from + 2, text.length), close);
    let start = f.from;
    // Each pass consumes one line, so this ends within the header section's length.
    for (let count = 1; start < text.length; count++) {
      if (count > this.#maxHeaders) throw new Error(`more than ${this.#maxHeaders} header fields`);
      const next = text.indexOf('\r\n', start);
      const end = next < 0 ? text.length : next;
      readField(f, start, end);
      start = end + 2;
    }
    return f;
  }

  #startBody(code: number, text: string, f: HeadFields): void {
    let contentLength = f.contentLength;
    const close = f.close;
    if (this.#noBody || code === 204 || code === 304) {
      this.#keepAlive = !close;
      this.#handler.onHead(new ParsedHead(code, text, f, !close));
      this.#end();
      return;
    }
    const te = f.te;
    if (te !== undefined) {
      // Only chunked alone: it is decoded here and the body re-framed for the client, so any
      // other coding (gzip, chunked) would be lost on the way and the client get garbled bytes.
      if (!/^[ \t]*chunked[ \t]*$/i.test(te))
        throw new Error(`unsupported Transfer-Encoding ${JSON.stringify(te.slice(0, 80))}`);
      contentLength = -1;
      this.#keepAlive = !close && f.contentLength < 0;
      this.#state = CHUNKED;
      this.#chunked = this.#chunkedDecoder();
    } else if (contentLength >= 0) {
      this.#keepAlive = !close;
      this.#state = LENGTH;
      this.#remaining = contentLength;
    } else {
      this.#keepAlive = false;
      this.#state = UNTIL_CLOSE;
    }
    f.contentLength = contentLength;
    this.#handler.onHead(new ParsedHead(code, text, f, this.#keepAlive));
    if (this.#state === LENGTH && this.#remaining === 0) this.#end();
  }

  #readCounted(data: Buffer, off: number): number {
    const n = Math.min(this.#remaining, data.length - off);
    this.#remaining -= n;
    const last = this.#remaining === 0;
    this.#handler.onBody(off === 0 && n === data.length ? data : data.subarray(off, off + n), last);
    if (last) this.#end();
    return off + n;
  }

  /** Decodes a chunked body into onBody calls, then ends the response. */
  #chunkedDecoder(): ChunkedDecoder {
    const handler = this.#handler;
    return new ChunkedDecoder(
      {
        onData: (chunk) => handler.onBody(chunk, false),
        onEnd: () => this.#end(),
      },
      this.#maxHeadBytes,
    );
  }

  #end(): void {
    this.#state = DONE;
    this.#handler.onEnd();
  }
}

/** True when `buf[from, to)` holds an LF that does not follow a CR (a bare LF line end). */
export function hasBareLf(buf: Buffer, from: number, to: number): boolean {
  // Bounded: each pass moves past one LF of the head.
  for (let i = buf.indexOf(10, from); i >= 0 && i < to; i = buf.indexOf(10, i + 1))
    if (i === 0 || buf[i - 1] !== 13) return true;
  return false;
}

/**
 * The code of `HTTP/1.0|1 NNN[ reason]`, or -1 when the line is not that. Checked by character
 * rather than with a regular expression: it runs for every response.
 */
function statusCodeOf(line: string): number {
  const n = line.length;
  if (n < 12 || !line.startsWith(STATUS_PREFIX)) return -1;
  const minor = line.charCodeAt(7);
  if ((minor !== 48 && minor !== 49) || line.charCodeAt(8) !== 32) return -1;
  const d0 = line.charCodeAt(9) - 48;
  const d1 = line.charCodeAt(10) - 48;
  const d2 = line.charCodeAt(11) - 48;
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return -1;
  if (n > 12 && (line.charCodeAt(12) !== 32 || /[\r\n]/.test(line))) return -1;
  return d0 * 100 + d1 * 10 + d2;
}
