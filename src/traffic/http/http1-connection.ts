// Longer than most files on purpose: one client connection's read loop (head, body, next request,
// upgrade, timeouts) is one state machine; split up, its ordering would be harder to check.
import type net from 'node:net';
import { readSocketDirectly, stopReadingSocketDirectly } from '../direct-socket-reads.js';
import { ChunkedDecoder, type ChunkedDecoderHandler } from './chunked-decoder.js';
import { httpErrors } from './errors.js';
import { Http1Request, type RequestBodySource } from './http1-request.js';
import { Http1Response, type ResponseSink } from './http1-response.js';
import { RequestHeadError, parseRequestHead } from './request-head-parser.js';
import { hasBareLf } from './response-parser.js';
import { tunnelProtocols } from './upgrade-answer.js';

/** Limits and client-side timeouts (ms; 0 turns a timeout off). */
export interface Http1Settings {
  readonly maxHeaderBytes: number;
  /**
   * Time to receive a request head (from its first byte, or from the start of a new connection),
   * and the longest wait between two reads of a body (nginx's client_header_timeout and
   * client_body_timeout): a body that keeps flowing is never cut.
   */
  readonly requestTimeoutMs: number;
  /** Time a connection may wait idle for its next request; 0: no keep-alive at all. */
  readonly keepaliveTimeoutMs: number;
  /** Time without any byte either way, while no upstream answer is awaited. */
  readonly idleTimeoutMs: number;
}

/** Gives a handed-over socket back to the HTTP/1.1 server (after an Upgrade the node refused). */
export interface Http1HandBack {
  /** The server is draining: the connection should close rather than carry another request. */
  readonly draining: boolean;
  /** The socket (paused) is served again, starting with `pending`, bytes read of the next request. */
  resume(pending: Buffer | undefined): void;
}

/** What a connection hands to the virtual server. */
export interface Http1Handlers {
  request(req: Http1Request, res: Http1Response): void;
  /**
   * An Upgrade request: the socket (paused) and the bytes read after its head now belong to the
   * handler, which may give the socket back with `back`.
   */
  upgrade(req: Http1Request, socket: net.Socket, head: Buffer, back: Http1HandBack): void;
  /**
   * A request was refused before it reached the proxy; `error` says why (a coded PosternError);
   * `head` is the start of its head (from the request line on) when one was read.
   */
  clientError(socket: net.Socket, status: number, error: Error, head?: string): void;
}

/** The server side a connection reads its settings and state from. */
export interface Http1ConnectionOwner {
  readonly settings: Http1Settings;
  readonly handlers: Http1Handlers;
  readonly draining: boolean;
  /**
   * Serves HTTP/1.1 on a socket: a new connection, or one given back after an upgrade (`keptAlive`:
   * it carried a request already, so waiting for the next one is keep-alive time).
   */
  accept(socket: net.Socket, keptAlive?: boolean): void;
  forget(connection: Http1Connection): void;
}

const HEAD = 0;
const REQUEST = 1;
const DONE = 2;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
/** Bytes of the next request read ahead while one is in progress before reading pauses. */
const READ_AHEAD_BYTES = 65536;

/**
 * One client connection of Postern's HTTP/1.1 server: reads request heads and bodies, hands each
 * request to the virtual server one at a time (pipelined requests wait their turn), keeps the
 * connection alive between requests, hands Upgrade requests over with their socket, and answers
 * what cannot be parsed (400/431/501/505) or arrives too slowly (408) itself.
 */
export class Http1Connection implements RequestBodySource, ResponseSink, ChunkedDecoderHandler {
  readonly socket: net.Socket;
  readonly #owner: Http1ConnectionOwner;
  #state = HEAD;
  /** Bytes read and not consumed yet: a partial head, or what follows the current request. */
  #pending: Buffer | undefined;
  #req: Http1Request | undefined;
  #res: Http1Response | undefined;
  #bodyLeft = 0;
  #decoder: ChunkedDecoder | undefined;
  #continueSent = false;
  #requests = 0;
  #readingPaused = false;
  #scheduled = false;
  /** performance.now() of the last byte either way. */
  lastActivity: number;
  /**
   * performance.now() of the current phase's start (head, keep-alive wait) or, while a body is
   * read, of its last read (or of when the body was last wanted and not held back).
   */
  #phaseStart: number;

  /** `keptAlive`: the socket carried a request before (given back after a refused upgrade). */
  constructor(socket: net.Socket, owner: Http1ConnectionOwner, keptAlive = false) {
    this.socket = socket;
    this.#owner = owner;
    if (keptAlive) this.#requests = 1;
    this.lastActivity = this.#phaseStart = performance.now();
    socket.on('data', this.#onData);
    socket.on('drain', this.#onDrain);
    socket.on('error', noop);
    socket.on('close', this.#onClose);
    // Each read reaches #onData without a buffer of its own or a 'data' event while the socket
    // flows (direct-socket-reads.ts); what waited while it was paused still comes as 'data'.
    readSocketDirectly(socket, this.#onData);
  }

  /** True between requests with nothing read of the next one. */
  get idle(): boolean {
    return this.#state === HEAD && this.#pending === undefined;
  }

  // ---- reading ----------------------------------------------------------------------------

  readonly #onData = (chunk: Buffer): void => {
    this.lastActivity = performance.now();
    if (this.#state === REQUEST) {
      this.#phaseStart = this.lastActivity;
      this.#readDuringRequest(chunk);
    } else if (this.#state === HEAD) this.#readHead(chunk);
  };

  #readHead(chunk: Buffer): void {
    const prev = this.#pending;
    const buf = prev === undefined ? chunk : Buffer.concat([prev, chunk]);
    if (prev === undefined) this.#phaseStart = this.lastActivity;
    let start = 0;
    // RFC 9112 §2.2: empty lines before a request line are ignored.
    while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
    const end = buf.indexOf(
      CRLFCRLF,
      prev === undefined ? start : Math.max(start, prev.length - 3),
    );
    const max = this.#owner.settings.maxHeaderBytes;
    // Only the head's bytes: what follows CRLFCRLF is a body, where LF means nothing.
    const scanned = end < 0 ? buf.length : end + 4;
    if (hasBareLf(buf, prev === undefined ? start : Math.max(start, prev.length), scanned)) {
      // RFC 9112 §2.2 allows a lone LF, but the edge and the node must split lines the same way,
      // and one that looks for CRLF would wait for the rest of the head forever: refuse at once.
      this.#refuse(400, httpErrors.badRequest('bare LF line ending in the request head'));
      return;
    }
    if (end < 0) {
      if (buf.length - start > max) this.#refuseTooLarge(buf, start, max);
      else this.#pending = start === buf.length ? undefined : buf.subarray(start);
      return;
    }
    if (end - start > max) {
      this.#refuseTooLarge(buf, start, max);
      return;
    }
    this.#pending = undefined;
    let head;
    const text = buf.toString('latin1', start, end);
    try {
      head = parseRequestHead(text);
    } catch (err) {
      if (!(err instanceof RequestHeadError)) throw err;
      this.#refuse(err.status, httpErrors.badRequest(err.message), text);
      return;
    }
    if (head.method === 'CONNECT') {
      const error = httpErrors.badRequest('CONNECT is not served here; use the access proxy');
      this.#refuse(405, error, text);
      return;
    }
    const rest = end + 4 < buf.length ? buf.subarray(end + 4) : undefined;
    const req = new Http1Request(head, this.socket, this);
    this.#requests++;
    if (head.upgrade !== undefined && tunnelProtocols(head.upgrade) !== undefined) {
      this.#handOver(req, rest);
      return;
    }
    // keepalive_timeout_ms 0 turns keep-alive off, as nginx's keepalive_timeout 0 does.
    const keepAlive = !head.close && this.#owner.settings.keepaliveTimeoutMs > 0;
    const res = new Http1Response(this, {
      minor: head.minor,
      isHead: head.method === 'HEAD',
      keepAlive,
    });
    this.#req = req;
    this.#res = res;
    this.#state = REQUEST;
    this.#phaseStart = this.lastActivity;
    this.#continueSent = false;
    this.#decoder = head.chunked ? new ChunkedDecoder(this) : undefined;
    this.#bodyLeft = head.chunked ? 0 : Math.max(0, head.contentLength);
    this.#owner.handlers.request(req, res);
    if (rest === undefined) return;
    if (this.#state === REQUEST) this.#readDuringRequest(rest);
    else this.#readAfterRequest(rest);
  }

  /** Bytes while a request is in progress: its body first, then read-ahead of the next one. */
  #readDuringRequest(chunk: Buffer): void {
    const req = this.#req as Http1Request;
    let at = 0;
    if (!req.complete) {
      try {
        at = this.#readBody(req, chunk);
      } catch (err) {
        this.#refuse(400, httpErrors.badRequest((err as Error).message));
        return;
      }
    }
    if (at < chunk.length) this.#readAfterRequest(at === 0 ? chunk : chunk.subarray(at));
  }

  /** Bytes after the current request's body: the next request's, kept until its turn. */
  #readAfterRequest(bytes: Buffer): void {
    if (this.#state === DONE) return;
    this.#pending = this.#pending === undefined ? bytes : Buffer.concat([this.#pending, bytes]);
    // The request may have ended meanwhile (its response was sent): then the turn is now.
    if (this.#state === HEAD) this.#schedulePending();
    else if (this.#pending.length >= READ_AHEAD_BYTES) this.pauseReading();
  }

  #readBody(req: Http1Request, chunk: Buffer): number {
    if (this.#decoder) return this.#decoder.execute(chunk);
    const n = Math.min(this.#bodyLeft, chunk.length);
    this.#bodyLeft -= n;
    req.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    if (this.#bodyLeft === 0) this.#bodyDone();
    return n;
  }

  onData(chunk: Buffer): void {
    (this.#req as Http1Request).push(chunk);
  }

  onEnd(): void {
    this.#bodyDone();
  }

  #bodyDone(): void {
    const req = this.#req as Http1Request;
    req.finish();
    // A response that ended before its request body: the body is read and dropped, then on.
    if (this.#res?.writableEnded) this.#nextRequest();
  }

  // ---- RequestBodySource ------------------------------------------------------------------

  bodyWanted(): void {
    const req = this.#req;
    if (req?.head.expectContinue && !req.complete && !this.#continueSent) {
      this.#continueSent = true;
      this.socket.write(CONTINUE, 'latin1');
    }
  }

  pauseReading(): void {
    if (this.#readingPaused) return;
    this.#readingPaused = true;
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.#readingPaused || this.#state === DONE) return;
    if (this.#pending !== undefined && this.#pending.length >= READ_AHEAD_BYTES) return;
    this.#readingPaused = false;
    this.socket.resume();
  }

  // ---- ResponseSink -----------------------------------------------------------------------

  get draining(): boolean {
    return this.#owner.draining;
  }

  touch(): void {
    this.lastActivity = performance.now();
  }

  responseEnded(keepAlive: boolean): void {
    const req = this.#req as Http1Request;
    if (!keepAlive) {
      this.#close();
      return;
    }
    if (req.complete) {
      this.#nextRequest();
      return;
    }
    // The body was not read: drop it and go on, unless the client still waits for 100 Continue
    // (it may never send the body, or send it later: the connection cannot be trusted).
    if (req.head.expectContinue && !this.#continueSent) {
      this.#close();
      return;
    }
    this.touch(); // the idle timeout counts from the response's end while the body is dropped
    req.removeAllListeners('data');
    req.resume();
  }

  readonly #onDrain = (): void => {
    this.lastActivity = performance.now();
    this.#res?.emit('drain');
  };

  // ---- between requests -------------------------------------------------------------------

  #nextRequest(): void {
    this.#req = undefined;
    this.#res = undefined;
    this.#decoder = undefined;
    this.#state = HEAD;
    this.#phaseStart = performance.now();
    if (this.#owner.draining) {
      this.#close();
      return;
    }
    if (this.#pending !== undefined) {
      this.#schedulePending();
      return;
    }
    this.resumeReading();
  }

  /** Pipelined bytes are parsed on the next turn, not inside the last response's end(). */
  #schedulePending(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#readPending);
  }

  readonly #readPending = (): void => {
    this.#scheduled = false;
    const pending = this.#pending;
    if (this.#state !== HEAD || pending === undefined) return;
    this.#pending = undefined;
    this.#readHead(pending);
    if (this.#state === HEAD) this.resumeReading();
  };

  #handOver(req: Http1Request, rest: Buffer | undefined): void {
    this.#state = DONE;
    const socket = this.socket;
    socket.removeListener('data', this.#onData);
    stopReadingSocketDirectly(socket);
    socket.removeListener('drain', this.#onDrain);
    socket.removeListener('close', this.#onClose);
    socket.pause();
    const owner = this.#owner;
    owner.forget(this);
    owner.handlers.upgrade(req, socket, rest ?? Buffer.alloc(0), {
      get draining() {
        return owner.draining;
      },
      resume: (pending) => handBack(owner, socket, pending),
    });
  }

  // ---- timeouts (called by the server's periodic sweep) -------------------------------------

  /** Applies the timeouts at `now` (performance.now()). */
  sweep(now: number): void {
    const s = this.#owner.settings;
    if (this.#state === HEAD) {
      if (this.#pending === undefined && this.#requests > 0) {
        // 0 is no keep-alive: a connection waiting for a next request (one given back after a
        // refused upgrade, or from before a reconfigure to 0) closes at once.
        if (now - this.#phaseStart >= s.keepaliveTimeoutMs) this.#close();
      } else if (s.requestTimeoutMs > 0 && now - this.#phaseStart >= s.requestTimeoutMs) {
        this.#refuse(408, httpErrors.requestTimeout(s.requestTimeoutMs));
      }
      return;
    }
    if (this.#state !== REQUEST) return;
    const req = this.#req as Http1Request;
    const res = this.#res as Http1Response;
    // The body's clock runs only while the proxy wants it and reads: a wait for a node or for
    // the upstream to take the bytes already read is not the client's.
    if (!req.bodyWanted || this.#readingPaused) this.#phaseStart = now;
    const late = s.requestTimeoutMs > 0 && now - this.#phaseStart >= s.requestTimeoutMs;
    if (late && !req.complete) {
      if (res.headersSent) this.socket.destroy();
      else this.#refuse(408, httpErrors.requestTimeout(s.requestTimeoutMs));
      return;
    }
    // While the upstream's answer is awaited, the exchange's own idle watch decides (504).
    const idle = s.idleTimeoutMs > 0 && now - this.lastActivity >= s.idleTimeoutMs;
    if (idle && res.headersSent) this.socket.destroy();
  }

  /** Closes the connection now if it is between requests. */
  closeIfIdle(): void {
    if (this.idle) this.#close();
  }

  // ---- ending -----------------------------------------------------------------------------

  /** Answers with a client error and closes: the connection's state can no longer be trusted. */
  #refuse(status: number, error: Error, head?: string): void {
    const res = this.#res;
    this.#state = DONE;
    this.#pending = undefined;
    if (res && (res.headersSent || res.writableEnded)) {
      // A response to this request has started or even ended (the node answered before the
      // body was read): a second response on the connection would answer a request that was
      // never sent, so the only honest end is to cut it.
      this.socket.destroy();
      return;
    }
    if (res?.refusal !== undefined) {
      // The request's exchange answers, so the client, the log and the metrics see one request
      // with one id; the response ends the connection.
      res.shouldKeepAlive = false;
      res.refusal.answerRefusal(status, error);
      return;
    }
    if (res) {
      res.writableEnded = true;
      res.notifyClosed();
    }
    this.#owner.handlers.clientError(this.socket, status, error, head);
  }

  /** 414 when the request line alone is over the limit (RFC 9110 §15.5.15), else 431. */
  #refuseTooLarge(buf: Buffer, start: number, max: number): void {
    const eol = buf.indexOf(CRLF, start);
    if (eol < 0 || eol - start > max) this.#refuse(414, httpErrors.uriTooLong(max));
    else this.#refuse(431, httpErrors.headersTooLarge(max), buf.toString('latin1', start, eol));
  }

  #close(): void {
    this.#state = DONE;
    this.socket.end();
    this.#owner.forget(this);
  }

  readonly #onClose = (): void => {
    this.#state = DONE;
    this.#owner.forget(this);
    this.#res?.notifyClosed();
  };
}

/** Serves a socket given back after a refused upgrade; `pending` is read first. */
function handBack(owner: Http1ConnectionOwner, socket: net.Socket, pending?: Buffer): void {
  if (socket.destroyed || socket.readableEnded) {
    socket.destroy();
    return;
  }
  if (pending !== undefined && pending.length > 0) socket.unshift(pending);
  socket.removeListener('error', noop); // the new connection adds its own
  owner.accept(socket, true);
  socket.resume();
}

function noop(): void {
  // Socket errors are followed by 'close', where the connection ends.
}
