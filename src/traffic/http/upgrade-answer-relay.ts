import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { forwardableResponseHeaders } from './header-list.js';
import { Http1Response, type ResponseSink } from './http1-response.js';
import {
  ResponseParser,
  type ResponseHead,
  type ResponseParserHandler,
  type ResponseParserLimits,
} from './response-parser.js';

/** What a relay tells the exchange that owns it. */
export interface UpgradeAnswerEvents {
  /** The node switched protocols: its 101 `head`, and `rest`, the new protocol's first bytes. */
  switched(head: ResponseHead, rest: Buffer): void;
  /**
   * A plain response's head is about to go out: `headers` (flat) may be edited (response rules);
   * `framed` when the client can tell where the response ends without the connection closing
   * (Content-Length, chunked, or no body). The answer says whether the connection stays HTTP.
   */
  plainHead(headers: string[], framed: boolean): boolean;
  /** The whole plain response went out (`status`); `keepAlive` when the connection stays HTTP. */
  done(status: number, keepAlive: boolean): void;
  /** The node's answer was invalid or cut; `responseStarted` when the client already got a head. */
  failed(err: Error, responseStarted: boolean): void;
}

/**
 * Reads a node's answer to an Upgrade request with the response parser. A valid 101 goes to
 * `switched`; any other answer is forwarded as a plain HTTP response (body framed as the node
 * framed it, hop-by-hop fields removed, response rules applied). The client connection stays
 * HTTP after it only when `plainHead` allows (given whether the client can tell where the
 * response ends); otherwise it gets `Connection: close` and closes. The
 * node's connection is closed either way: it served an Upgrade attempt and is never reused.
 */
export class UpgradeAnswerRelay implements ResponseParserHandler, ResponseSink {
  readonly socket: net.Socket;
  readonly #upstream: Duplex;
  readonly #res: Http1Response;
  readonly #parser: ResponseParser;
  readonly #events: UpgradeAnswerEvents;
  #ended = false;

  constructor(
    client: Duplex,
    upstream: Duplex,
    o: {
      minor: 0 | 1;
      isHead: boolean;
      /** The protocols the request asked for (its Upgrade value, h2c left out). */
      upgrade: string;
      limits: ResponseParserLimits;
      events: UpgradeAnswerEvents;
    },
  ) {
    // Postern's own server hands over a net.Socket (a TLSSocket on https).
    this.socket = client as net.Socket;
    this.#upstream = upstream;
    this.#events = o.events;
    this.#res = new Http1Response(this, { minor: o.minor, isHead: o.isHead, keepAlive: false });
    this.#parser = new ResponseParser(this, o.limits);
    this.#parser.expect(o.isHead, o.upgrade);
  }

  /** True once a plain response's head went to the client. */
  get responseStarted(): boolean {
    return this.#res.headersSent;
  }

  /** The status sent to the client; 0 before the head. */
  get status(): number {
    return this.#res.headersSent ? this.#res.statusCode : 0;
  }

  /** Whether the response keeps the connection is decided per response (see plainHead). */
  get draining(): boolean {
    return false;
  }

  /** Feeds bytes of the node's answer; false once the relay is done or failed. */
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

  onSwitch(head: ResponseHead, rest: Buffer): void {
    this.#ended = true;
    this.#events.switched(head, rest);
  }

  onHead(head: ResponseHead): void {
    const headers = forwardableResponseHeaders(head.rawHeaders);
    // Decided before the head goes out: Http1Response writes Connection: close when it is false.
    this.#res.shouldKeepAlive = this.#events.plainHead(headers, !this.#parser.readsUntilClose);
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
      this.socket.once('drain', this.#onDrain);
    }
  }

  onEnd(): void {
    if (!this.#ended) this.#res.end();
  }

  responseEnded(keepAlive: boolean): void {
    this.#ended = true;
    this.socket.off('drain', this.#onDrain);
    this.#upstream.destroy();
    if (!keepAlive) this.socket.end();
    this.#events.done(this.#res.statusCode, keepAlive);
  }

  readonly #onDrain = (): void => {
    this.#upstream.resume();
  };

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
