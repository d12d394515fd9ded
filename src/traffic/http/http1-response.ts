import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type net from 'node:net';
import { holdWritesUntilTurnEnd } from '../turn-writes.js';
import type { RefusalAnswerer } from './refusal-answer.js';
import { utcDate } from './utc-date.js';

/** What a response tells the connection it is written on. */
export interface ResponseSink {
  readonly socket: net.Socket;
  /** The server is draining: answer with Connection: close. */
  readonly draining: boolean;
  /** The response is complete; `keepAlive` says whether the connection may carry another. */
  responseEnded(keepAlive: boolean): void;
  /** Writes happened: the connection is active. */
  touch(): void;
}

/** Bodies up to this size go out in one write together with the head. */
const COALESCE_BYTES = 16384;
const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';
// Field values: tab, visible ASCII, space and obs-text; nothing that could end a line.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * A response written by Postern's HTTP/1.1 server. The head waits until the first body bytes (or
 * the end), so that a small response leaves in one write. The body is framed by the response's
 * Content-Length, or chunked for HTTP/1.1 clients, or by closing the connection for HTTP/1.0
 * ones. Its shape follows Node's ServerResponse where the proxy uses it; 'close' is emitted
 * once, when the response has ended or the connection closed before that.
 */
export class Http1Response extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  /** Set to false before the head is written to close the connection after this response. */
  shouldKeepAlive: boolean;
  /** Who answers when the connection refuses the request's body (its exchange), if anyone. */
  refusal: RefusalAnswerer | undefined = undefined;
  readonly #sink: ResponseSink;
  readonly #minor: 0 | 1;
  readonly #isHead: boolean;
  #head: string | undefined;
  #chunked = false;
  #noBody = false;
  #closed = false;

  constructor(sink: ResponseSink, o: { minor: 0 | 1; isHead: boolean; keepAlive: boolean }) {
    super();
    this.#sink = sink;
    this.#minor = o.minor;
    this.#isHead = o.isHead;
    this.shouldKeepAlive = o.keepAlive;
  }

  /** The connection's socket. */
  get socket(): net.Socket {
    return this.#sink.socket;
  }

  /**
   * Sets the status (with the standard reason phrase unless `text` is given) and the header
   * fields (flat `[name, value, …]`); the head leaves with the first body bytes. Throws on a
   * field that cannot be sent (a bad name, or a value with CR/LF).
   */
  writeHead(status: number, text: string | undefined, headers: readonly string[]): this {
    if (this.headersSent) throw new Error('the response head was already written');
    this.#head = this.#serialize(status, text ?? STATUS_CODES[status] ?? 'Unknown', headers);
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }

  /**
   * Like {@link writeHead}, with the header fields already checked and serialized: `lines` are
   * field lines each ending in CRLF (an upstream's, as ResponseHead.forwardable gives them).
   */
  writeHeadLines(
    status: number,
    text: string,
    lines: string,
    o: { readonly hasLength: boolean; readonly hasDate: boolean },
  ): this {
    if (this.headersSent) throw new Error('the response head was already written');
    const head = `HTTP/1.1 ${status} ${text}\r\n${lines}`;
    this.#head = this.#finishHead(head, status, o.hasLength, o.hasDate);
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }

  /** Writes body bytes; false when the client is slow (wait for 'drain'). */
  write(chunk: Buffer | string): boolean {
    if (this.writableEnded) return false;
    if (!this.headersSent) this.writeHead(this.statusCode, undefined, []);
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.#noBody || data.length === 0) return this.#flushHead();
    this.#sink.touch();
    const socket = this.#sink.socket;
    holdWritesUntilTurnEnd(socket);
    if (this.#chunked) {
      const prefix = `${this.#takeHead()}${data.length.toString(16)}\r\n`;
      if (data.length <= COALESCE_BYTES) return socket.write(joined(prefix, data, CRLF));
      socket.cork();
      socket.write(prefix, 'latin1');
      socket.write(data);
      const ok = socket.write(CRLF, 'latin1');
      socket.uncork();
      return ok;
    }
    const head = this.#takeHead();
    if (head === '') return socket.write(data);
    if (data.length <= COALESCE_BYTES) return socket.write(joined(head, data, ''));
    socket.cork();
    socket.write(head, 'latin1');
    const ok = socket.write(data);
    socket.uncork();
    return ok;
  }

  /** Ends the response, with last body bytes if given. */
  end(chunk?: Buffer | string): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) this.writeHead(this.statusCode, undefined, []);
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const socket = this.#sink.socket;
    holdWritesUntilTurnEnd(socket);
    if (this.#chunked) {
      if (data !== undefined && data.length > 0) {
        const prefix = `${this.#takeHead()}${data.length.toString(16)}\r\n`;
        socket.write(joined(prefix, data, `\r\n${LAST_CHUNK}`));
      } else socket.write(`${this.#takeHead()}${LAST_CHUNK}`, 'latin1');
    } else if (data !== undefined && data.length > 0 && !this.#noBody) {
      const head = this.#takeHead();
      socket.write(head === '' || data.length > COALESCE_BYTES ? data : joined(head, data, ''));
    } else this.#flushHead();
    this.writableEnded = true;
    this.#sink.responseEnded(this.shouldKeepAlive);
    this.notifyClosed();
    return this;
  }

  /** Cuts the connection (the response cannot be completed). */
  destroy(): void {
    this.#sink.socket.destroy();
  }

  /** Emits 'close' once (the response ended, or its connection closed). */
  notifyClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close');
  }

  #serialize(status: number, text: string, headers: readonly string[]): string {
    let head = `HTTP/1.1 ${status} ${text}\r\n`;
    let length = false;
    let date = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      const value = headers[i + 1] as string;
      if (!TOKEN.test(name)) throw new Error(`invalid header name ${JSON.stringify(name)}`);
      if (BAD_VALUE.test(value)) throw new Error(`invalid value in header ${name}`);
      const n = name.length;
      if (n === 14 && name.toLowerCase() === 'content-length') length = true;
      else if (n === 4 && name.toLowerCase() === 'date') date = true;
      head += `${name}: ${value}\r\n`;
    }
    return this.#finishHead(head, status, length, date);
  }

  /** Adds Date when missing, the body framing and the connection's fate, and the final CRLF. */
  #finishHead(fields: string, status: number, length: boolean, date: boolean): string {
    let head = fields;
    if (!date) head += `Date: ${utcDate()}\r\n`;
    this.#noBody = this.#isHead || status === 204 || status === 304 || status < 200;
    let keepAlive = this.shouldKeepAlive && !this.#sink.draining;
    if (!this.#noBody && !length) {
      if (this.#minor === 1) {
        this.#chunked = true;
        head += 'Transfer-Encoding: chunked\r\n';
      } else keepAlive = false; // HTTP/1.0: the body ends when the connection does.
    }
    this.shouldKeepAlive = keepAlive;
    if (!keepAlive) head += 'Connection: close\r\n';
    else if (this.#minor === 0) head += 'Connection: keep-alive\r\n';
    return `${head}\r\n`;
  }

  #takeHead(): string {
    const head = this.#head ?? '';
    this.#head = undefined;
    return head;
  }

  #flushHead(): boolean {
    const head = this.#takeHead();
    return head === '' ? true : this.#sink.socket.write(head, 'latin1');
  }
}

/** `before` + `data` + `after` in one buffer (the strings are latin1). */
function joined(before: string, data: Buffer, after: string): Buffer {
  const out = Buffer.allocUnsafe(before.length + data.length + after.length);
  out.write(before, 0, 'latin1');
  data.copy(out, before.length);
  if (after.length > 0) out.write(after, before.length + data.length, 'latin1');
  return out;
}
