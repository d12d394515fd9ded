import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { readDirectly, takeViews, type ViewReader } from '../io-shortcuts.js';
import { holdWritesUntilTurnEnd } from '../turn-writes.js';
import { httpErrors } from './errors.js';
import {
  ResponseParser,
  type ResponseHead,
  type ResponseParserHandler,
  type ResponseParserLimits,
} from './response-parser.js';

/** The request currently using a connection; receives the response and failures. */
export interface Exchange {
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer, last: boolean): void;
  onEnd(): void;
  /** The connection failed or closed before the response was complete. */
  onFail(err: Error, responseStarted: boolean): void;
}

/** How a connection was made and what it may carry. */
export interface UpstreamConnectionInit {
  readonly address: string;
  /** The connector group the connection goes through; undefined when dialed from the edge. */
  readonly via: string | undefined;
  readonly connectorId: string | undefined;
  /** Key of the idle cache this connection returns to; default `via ?? ''` (TLS pools differ). */
  readonly cacheGroup?: string | undefined;
  readonly limits: ResponseParserLimits;
  /** Called when an idle connection closes, so that its cache forgets it. */
  readonly onIdleClose: (connection: UpstreamConnection) => void;
  /** Reads arrive here as views (of a shared buffer, or owned in bulk) instead of 'data' events, when set. */
  readonly viewReader?: ViewReader | undefined;
}

/** One HTTP/1.1 connection to an upstream node, carrying one exchange at a time. */
export class UpstreamConnection implements ResponseParserHandler {
  readonly socket: Duplex;
  readonly address: string;
  readonly via: string | undefined;
  readonly connectorId: string | undefined;
  /** Key of the idle cache this connection returns to. */
  readonly cacheGroup: string;
  /** Requests sent on this connection so far. */
  uses = 0;
  /** Monotonic time the connection became idle (set by its cache). */
  idleSince = 0;
  #exchange: Exchange | undefined;
  readonly #parser: ResponseParser;
  readonly #onIdleClose: (connection: UpstreamConnection) => void;
  #closed = false;
  #headSeen = false;
  #ended = false;
  #lastError: Error | undefined;
  /** The read being parsed is a view of a buffer the next read overwrites: body bytes passed on are copies. */
  #copyBody = false;

  constructor(socket: Duplex, init: UpstreamConnectionInit) {
    this.socket = socket;
    this.address = init.address;
    this.via = init.via;
    this.connectorId = init.connectorId;
    this.cacheGroup = init.cacheGroup ?? init.via ?? '';
    this.#onIdleClose = init.onIdleClose;
    this.#parser = new ResponseParser(this, init.limits);
    if (init.viewReader) {
      takeViews(init.viewReader, (view, owned) => {
        this.#copyBody = !owned;
        this.#onData(view);
      });
    } else {
      const onData = (chunk: Buffer): void => this.#onData(chunk);
      socket.on('data', onData);
      readDirectly(socket, onData);
    }
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err: Error) => (this.#lastError = err));
    socket.on('close', () => this.#onClose());
  }

  /** True when the last response completed cleanly and the node allows another request. */
  get reusable(): boolean {
    return !this.#closed && this.#parser.reusable;
  }

  /** True once the connection is closed or closing. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Starts an exchange by sending the request head; `noBody` for HEAD requests. */
  begin(exchange: Exchange, head: string, noBody: boolean): void {
    this.#exchange = exchange;
    this.#headSeen = false;
    this.#ended = false;
    this.uses++;
    this.#parser.expect(noBody);
    // A kernel socket's writes go out together at the end of the turn; a tunnel stream's
    // sender batches frames by itself (holding its writes too measured slower).
    if (this.socket instanceof Socket) holdWritesUntilTurnEnd(this.socket);
    this.socket.write(head, 'latin1');
  }

  /** Ends the current exchange without waiting for the rest (the client went away, a timeout). */
  abandon(): void {
    this.#exchange = undefined;
    this.destroy();
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.#closed = true;
    this.socket.destroy();
  }

  onHead(head: ResponseHead): void {
    this.#headSeen = true;
    this.#exchange?.onHead(head);
  }

  onBody(chunk: Buffer, last: boolean): void {
    this.#exchange?.onBody(this.#copyBody ? Buffer.from(chunk) : chunk, last);
  }

  onEnd(): void {
    // Delivered after execute() returns, so that trailing garbage marks the connection unusable first.
    this.#ended = true;
  }

  #onData(chunk: Buffer): void {
    const exchange = this.#exchange;
    if (!exchange) {
      // Bytes while idle: the node is confused or closing; never reuse this connection.
      this.destroy();
      return;
    }
    try {
      this.#parser.execute(chunk);
    } catch (err) {
      this.#exchange = undefined;
      this.destroy();
      exchange.onFail(
        httpErrors.upstreamProtocol(this.address, (err as Error).message),
        this.#headSeen,
      );
      return;
    }
    if (this.#ended) this.#finishExchange();
  }

  #finishExchange(): void {
    const exchange = this.#exchange;
    this.#exchange = undefined;
    this.#ended = false;
    exchange?.onEnd();
  }

  #onEnd(): void {
    this.#closed = true;
    if (this.#exchange && this.#parser.finish()) this.#finishExchange();
    this.socket.destroy();
  }

  #onClose(): void {
    this.#closed = true;
    const exchange = this.#exchange;
    if (exchange) {
      this.#exchange = undefined;
      const detail =
        (this.#lastError as { code?: string } | undefined)?.code ?? 'connection closed';
      exchange.onFail(httpErrors.upstreamReset(this.address, detail), this.#headSeen);
    } else if (this.idleSince > 0) this.#onIdleClose(this);
  }
}
