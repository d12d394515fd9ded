import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type net from 'node:net';
import type { RequestHead } from './request-head-parser.js';

/** What a request tells the connection it arrived on about reading its body. */
export interface RequestBodySource {
  /** The body is wanted: send 100 Continue if the client waits for it. */
  bodyWanted(): void;
  /** Stop reading from the client (the body consumer is paused). */
  pauseReading(): void;
  resumeReading(): void;
}

/**
 * A request received by Postern's HTTP/1.1 server: the parsed head, and the body as 'data' events
 * ('end' after the last). Reading starts paused: nothing flows until `resume()`, and bytes that
 * arrive meanwhile are held (the connection stops reading from the socket). Its shape follows
 * Node's IncomingMessage where the proxy reads it.
 */
export class Http1Request extends EventEmitter {
  readonly head: RequestHead;
  readonly method: string;
  readonly url: string;
  readonly httpVersion: '1.0' | '1.1';
  readonly httpVersionMajor = 1;
  readonly rawHeaders: string[];
  readonly socket: net.Socket;
  /** The request has a body (Content-Length above 0, or chunked). */
  readonly hasBody: boolean;
  /** The whole body has been received. */
  complete: boolean;
  readonly #source: RequestBodySource;
  #headers: IncomingHttpHeaders | undefined;
  #held: Buffer[] | undefined;
  #flowing = false;
  #wanted = false;
  #endEmitted = false;

  constructor(head: RequestHead, socket: net.Socket, source: RequestBodySource) {
    super();
    this.head = head;
    this.method = head.method;
    this.url = head.target;
    this.httpVersion = head.minor === 1 ? '1.1' : '1.0';
    this.rawHeaders = head.rawHeaders;
    this.socket = socket;
    this.hasBody = head.chunked || head.contentLength > 0;
    this.complete = !this.hasBody;
    this.#source = source;
  }

  /** The header fields by lower-case name, as Node joins duplicates (built on first use). */
  get headers(): IncomingHttpHeaders {
    return (this.#headers ??= headersObject(this.rawHeaders));
  }

  /** True once somebody asked for the body (with `resume()`). */
  get bodyWanted(): boolean {
    return this.#wanted;
  }

  /** Starts or continues the flow of body 'data' events. */
  resume(): this {
    if (!this.#wanted) {
      this.#wanted = true;
      this.#source.bodyWanted();
    }
    this.#flowing = true;
    const held = this.#held;
    if (held) {
      this.#held = undefined;
      for (let i = 0; i < held.length; i++) {
        if (!this.#flowing) {
          this.#held = held.slice(i).concat(this.#held ?? []);
          return this;
        }
        this.emit('data', held[i]);
      }
    }
    this.#maybeEnd();
    if (this.#flowing && !this.complete) this.#source.resumeReading();
    return this;
  }

  /** Stops the flow of 'data' events; what arrives meanwhile is held. */
  pause(): this {
    this.#flowing = false;
    return this;
  }

  /** Body bytes from the connection. */
  push(chunk: Buffer): void {
    if (this.#flowing && this.#held === undefined) {
      this.emit('data', chunk);
      return;
    }
    (this.#held ??= []).push(chunk);
    this.#source.pauseReading();
  }

  /** The connection read the last body byte. */
  finish(): void {
    this.complete = true;
    this.#maybeEnd();
  }

  #maybeEnd(): void {
    if (!this.complete || !this.#flowing || this.#held || this.#endEmitted) return;
    this.#endEmitted = true;
    if (this.hasBody) this.emit('end');
  }
}

/** Node's IncomingMessage.headers from raw fields: duplicates joined, Set-Cookie as a list. */
function headersObject(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    const prev = out[name];
    if (name === 'set-cookie') {
      if (Array.isArray(prev)) prev.push(value);
      else out[name] = [value];
    } else if (prev === undefined) out[name] = value;
    else if (name === 'cookie') out[name] = `${prev as string}; ${value}`;
    else if (!SINGLE.has(name)) out[name] = `${prev as string}, ${value}`;
  }
  return out;
}

/** Fields Node keeps the first of (RFC 9110 says these may not repeat). */
const SINGLE = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);
