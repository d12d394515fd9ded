import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { forwardableResponseHeaders } from './header-list.js';
import { Http1Response, type ResponseSink } from './http1-response.js';
import {
  hasBareLf,
  ResponseParser,
  type ResponseHead,
  type ResponseParserHandler,
  type ResponseParserLimits,
} from './response-parser.js';

/** What the start of a node's answer to an Upgrade request says. */
export type UpgradeAnswer =
  /** A valid 101: bytes `[0, headEnd)` are its head, the rest belongs to the new protocol. */
  | { readonly switched: true; readonly headEnd: number }
  /** Any other response: it is parsed and forwarded as a plain HTTP response. */
  | { readonly switched: false };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const STATUS_101 = /^HTTP\/1\.[01] 101(?: |$)/;
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):([\t\x20-\x7e\x80-\xff]*)$/;

/**
 * Reads a node's answer to an Upgrade request from the start of `buf`: undefined until enough
 * has arrived. Only a 101 whose head is valid and names in Upgrade protocols the client asked
 * for (`asked`, the client's Upgrade value) switches (RFC 9110 §7.8); a 101 without them throws,
 * as does a head over `maxHeadBytes` or with a bare LF line end.
 */
export function upgradeAnswerOf(
  buf: Buffer,
  asked: string,
  maxHeadBytes: number,
): UpgradeAnswer | undefined {
  const eol = buf.indexOf(10);
  if (eol < 0) {
    if (buf.length > maxHeadBytes) throw new Error(`header section over ${maxHeadBytes} bytes`);
    return undefined;
  }
  // Any other status line (or none) is for the response parser to read, or to refuse.
  if (!STATUS_101.test(buf.toString('latin1', 0, eol > 0 ? eol - 1 : 0)))
    return { switched: false };
  const end = buf.indexOf(CRLFCRLF);
  const to = end < 0 ? buf.length : end + 4;
  if (hasBareLf(buf, 0, to))
    throw new Error('bare LF line ending in the response head (lines must end in CRLF)');
  if (end < 0 || end > maxHeadBytes) {
    if (buf.length > maxHeadBytes) throw new Error(`header section over ${maxHeadBytes} bytes`);
    return undefined;
  }
  const offered = upgradeField(buf.toString('latin1', eol + 1, end));
  if (offered === undefined)
    throw new Error('101 Switching Protocols without an Upgrade header field');
  if (!offersOnlyAsked(offered, asked))
    throw new Error(
      `101 Switching Protocols to ${JSON.stringify(offered.slice(0, 80))}, which the client did not ask for`,
    );
  return { switched: true, headEnd: end + 4 };
}

/**
 * The protocols of a client's Upgrade value that may become a tunnel, or undefined when none is
 * left. `h2c` is dropped: HTTP/2 over the tunnel would carry any number of requests past the
 * edge's rules and header handling ("h2c smuggling"); HAProxy drops it too. A request that asks
 * only for h2c is served as a plain HTTP/1.1 request instead.
 */
export function tunnelProtocols(upgrade: string): string | undefined {
  const kept = upgrade
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '' && (p.split('/')[0] as string).trim().toLowerCase() !== 'h2c');
  return kept.length === 0 ? undefined : kept.join(', ');
}

/** The Upgrade value of the field lines `text` (CRLF-separated, already free of bare LF). */
function upgradeField(text: string): string | undefined {
  let value: string | undefined;
  if (text === '') return undefined;
  for (const line of text.split('\r\n')) {
    const m = FIELD.exec(line);
    if (!m) throw new Error(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
    if ((m[1] as string).toLowerCase() === 'upgrade') {
      const v = (m[2] as string).trim();
      value = value === undefined ? v : `${value}, ${v}`;
    }
  }
  return value === '' ? undefined : value;
}

/** True when every protocol of `offered` is one the client listed (names, case-insensitive). */
function offersOnlyAsked(offered: string, asked: string): boolean {
  const names = (list: string): string[] =>
    list
      .split(',')
      .map((p) => (p.split('/')[0] as string).trim().toLowerCase())
      .filter((p) => p !== '');
  const wanted = new Set(names(asked));
  const got = names(offered);
  return got.length > 0 && got.every((p) => wanted.has(p));
}

/** What a relay tells the exchange that owns it. */
export interface RelayEvents {
  /** The response head is about to go out; `headers` (flat) may be edited (response rules). */
  editHeaders(headers: string[]): void;
  /** The whole response went out (`status`); the client connection is closing. */
  done(status: number): void;
  /** The node's answer was invalid or cut; `responseStarted` when the client already got a head. */
  failed(err: Error, responseStarted: boolean): void;
}

/**
 * Forwards a node's answer other than 101 to an Upgrade request as a plain HTTP response (its
 * body framed as the node framed it, hop-by-hop fields removed, response rules applied) with
 * `Connection: close`, then closes the client connection: it never becomes a tunnel, and what
 * the client sent after the Upgrade request is dropped, never passed on unparsed.
 */
export class RefusedUpgradeRelay implements ResponseParserHandler, ResponseSink {
  readonly socket: net.Socket;
  readonly #upstream: Duplex;
  readonly #res: Http1Response;
  readonly #parser: ResponseParser;
  readonly #events: RelayEvents;
  #ended = false;

  constructor(
    client: Duplex,
    upstream: Duplex,
    o: {
      minor: 0 | 1;
      isHead: boolean;
      limits: ResponseParserLimits;
      events: RelayEvents;
    },
  ) {
    // Postern's own server hands over a net.Socket (a TLSSocket on https).
    this.socket = client as net.Socket;
    this.#upstream = upstream;
    this.#events = o.events;
    this.#res = new Http1Response(this, { minor: o.minor, isHead: o.isHead, keepAlive: false });
    this.#parser = new ResponseParser(this, o.limits);
    this.#parser.expect(o.isHead);
  }

  /** True once the response head went to the client. */
  get responseStarted(): boolean {
    return this.#res.headersSent;
  }

  /** The status sent to the client; 0 before the head. */
  get status(): number {
    return this.#res.headersSent ? this.#res.statusCode : 0;
  }

  /** Always true: the response asks the client to close (Connection: close). */
  get draining(): boolean {
    return true;
  }

  /** Feeds bytes of the node's answer; false once the relay failed (the exchange then stops). */
  execute(data: Buffer): boolean {
    if (this.#ended) return false;
    try {
      this.#parser.execute(data);
      return true;
    } catch (err) {
      this.#fail(err as Error);
      return false;
    }
  }

  /** The node closed its side: ends a close-delimited body, or fails a cut one. */
  upstreamEnded(): void {
    if (this.#ended) return;
    if (!this.#parser.finish())
      this.#fail(new Error('connection closed before the response ended'));
  }

  onHead(head: ResponseHead): void {
    const headers = forwardableResponseHeaders(head.rawHeaders);
    this.#events.editHeaders(headers);
    try {
      this.#res.writeHead(head.status, head.statusText, headers);
    } catch (err) {
      this.#fail(err as Error);
    }
  }

  onBody(chunk: Buffer, last: boolean): void {
    if (this.#ended) return;
    if (last) {
      this.#res.end(chunk);
      return;
    }
    if (!this.#res.write(chunk)) {
      this.#upstream.pause();
      this.socket.once('drain', () => this.#upstream.resume());
    }
  }

  onEnd(): void {
    if (!this.#ended) this.#res.end();
  }

  responseEnded(): void {
    this.#ended = true;
    this.#upstream.destroy();
    this.socket.end();
    this.#events.done(this.#res.statusCode);
  }

  touch(): void {
    // The client socket's own timeout sees the writes.
  }

  #fail(err: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#upstream.destroy();
    this.#events.failed(err, this.#res.headersSent);
  }
}
