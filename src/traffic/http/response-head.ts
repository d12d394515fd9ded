import { isHopByHop } from './header-list.js';
import { mayNamePosternCookie } from './postern-cookies.js';

// Sticky: matched in place in the header text, so that no string is cut out per field.
const NAME_AT = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
// Field values: tab, visible ASCII, space and obs-text, as Http1Response checks what it writes.
const VALUE_AT = /[\t\x20-\x7e\x80-\xff]*/y;
const DIGITS = /^\d{1,15}$/;

/** The status line and header section of an upstream response, with its body framing. */
export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** Header fields as received, flat: `[name0, value0, …]`. */
  readonly rawHeaders: string[];
  /** Body length from Content-Length; -1 when the body is chunked, delimited by close, or absent. */
  readonly contentLength: number;
  /** The connection may carry another request after this response. */
  readonly keepAlive: boolean;
  /**
   * The header lines as received, each ending in CRLF, when they can be forwarded to an HTTP/1.1
   * client as they are: no hop-by-hop field but a Connection of exactly `keep-alive` or `close`
   * (left out here), no control character in a value. Undefined otherwise.
   */
  readonly forwardable: string | undefined;
  /** The fields include a Date. */
  readonly hasDate: boolean;
}

/** What the header section says about framing, with the text its fields are read from. */
export interface HeadFields {
  readonly text: string;
  /** Where the first field line starts (the text's length when there is none). */
  readonly from: number;
  contentLength: number;
  te: string | undefined;
  close: boolean;
  /** The lines may be forwarded as received (see ResponseHead.forwardable). */
  plain: boolean;
  /** Where the Connection line (with its CRLF) starts and ends, or -1 without one. */
  dropFrom: number;
  dropTo: number;
  date: boolean;
  /** The Upgrade values, joined with ", "; undefined without the field. */
  upgrade: string | undefined;
}

/** Fields of `text` whose first line starts at `from`, before any is read; `close` as HTTP/1.0 implies. */
export function headFields(text: string, from: number, close: boolean): HeadFields {
  return {
    text,
    from,
    contentLength: -1,
    te: undefined,
    close,
    plain: true,
    dropFrom: -1,
    dropTo: -1,
    date: false,
    upgrade: undefined,
  };
}

/** A parsed head; the field list is cut out of the text only when somebody asks for it. */
export class ParsedHead implements ResponseHead {
  readonly status: number;
  readonly statusText: string;
  readonly contentLength: number;
  readonly keepAlive: boolean;
  readonly forwardable: string | undefined;
  readonly hasDate: boolean;
  readonly #text: string;
  readonly #from: number;
  #raw: string[] | undefined;

  constructor(code: number, reason: string, f: HeadFields, keepAlive: boolean) {
    this.status = code;
    this.statusText = reason;
    this.contentLength = f.contentLength;
    this.keepAlive = keepAlive;
    this.forwardable = f.plain ? forwardableLines(f) : undefined;
    this.hasDate = f.date;
    this.#text = f.text;
    this.#from = f.from;
  }

  get rawHeaders(): string[] {
    return (this.#raw ??= fieldList(this.#text, this.#from));
  }
}

/**
 * Checks the field line `f.text[start, end)` and notes what it says about framing and
 * forwarding. Only the values of the few fields that matter here are cut out of the text.
 */
export function readField(f: HeadFields, start: number, end: number): void {
  const text = f.text;
  const colon = text.indexOf(':', start);
  NAME_AT.lastIndex = start;
  if (colon < 0 || colon > end || !NAME_AT.test(text) || NAME_AT.lastIndex !== colon)
    throw new Error(
      `bad header line ${JSON.stringify(text.slice(start, Math.min(end, start + 80)))}`,
    );
  if (f.plain) {
    VALUE_AT.lastIndex = colon + 1;
    VALUE_AT.test(text);
    if (VALUE_AT.lastIndex !== end) f.plain = false;
  }
  // Only names of these lengths can be fields that matter here: skip lower-casing the rest.
  const n = colon - start;
  if (n !== 2 && n !== 4 && n !== 7 && n !== 10 && n !== 14 && n !== 16 && n !== 17) return;
  const lower = text.slice(start, colon).toLowerCase();
  if (lower === 'content-length') {
    const value = text.slice(colon + 1, end).trim();
    if (!DIGITS.test(value) || (f.contentLength >= 0 && f.contentLength !== Number(value)))
      throw new Error(`bad Content-Length ${JSON.stringify(value)}`);
    f.contentLength = Number(value);
  } else if (lower === 'date') {
    f.date = true;
  } else if (lower === 'set-cookie') {
    // A node setting one of Postern's cookies: the field is removed on the way (header-list.ts).
    if (mayNamePosternCookie(text.slice(colon + 1, end))) f.plain = false;
  } else if (lower === 'connection') {
    const v = text
      .slice(colon + 1, end)
      .trim()
      .toLowerCase();
    if (v.includes('close')) f.close = true;
    else if (v.includes('keep-alive')) f.close = false;
    if (f.dropFrom >= 0 || (v !== 'close' && v !== 'keep-alive')) f.plain = false;
    else {
      f.dropFrom = start;
      f.dropTo = end + 2;
    }
  } else if (isHopByHop(lower)) {
    f.plain = false;
    if (lower === 'transfer-encoding') {
      const value = text.slice(colon + 1, end).trim();
      f.te = f.te === undefined ? value : `${f.te}, ${value}`;
    } else if (lower === 'upgrade') {
      const value = text.slice(colon + 1, end).trim();
      f.upgrade = f.upgrade === undefined ? value : `${f.upgrade}, ${value}`;
    }
  }
}

/** The fields of lines from `from` on (already checked), flat: `[name0, value0, …]`. */
function fieldList(text: string, from: number): string[] {
  const raw: string[] = [];
  let start = from;
  while (start < text.length) {
    const next = text.indexOf('\r\n', start);
    const end = next < 0 ? text.length : next;
    const colon = text.indexOf(':', start);
    raw.push(text.slice(start, colon), text.slice(colon + 1, end).trim());
    start = end + 2;
  }
  return raw;
}

/** The field lines, each ending in CRLF, without the Connection line. */
function forwardableLines(f: HeadFields): string {
  const { text, from } = f;
  if (from >= text.length) return '';
  if (f.dropFrom < 0) return `${text.slice(from)}\r\n`;
  const before = text.slice(from, f.dropFrom);
  return f.dropTo >= text.length ? before : `${before}${text.slice(f.dropTo)}\r\n`;
}
