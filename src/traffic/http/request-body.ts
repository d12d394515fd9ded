import type { Duplex } from 'node:stream';
import type { ClientRequest } from './client-request.js';

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

/**
 * Streams a client's request body to the upstream connection with backpressure. Bodies of
 * unknown length (chunked HTTP/1.1, HTTP/2 without content-length) are re-framed as chunked.
 * Nothing is read from the client until a connection is attached, so a request whose first
 * attempt failed before `started` can still be sent elsewhere.
 */
export class RequestBodyPump {
  /** A body byte has gone to an upstream: the request can no longer be retried. */
  started = false;
  /** The whole body has been sent. */
  finished = false;
  /** Body bytes received from the client. */
  bytes = 0;
  readonly #req: ClientRequest;
  readonly #chunked: boolean;
  readonly #onActivity: () => void;
  #socket: Duplex | undefined;
  #listening = false;

  constructor(req: ClientRequest, chunked: boolean, onActivity: () => void) {
    this.#req = req;
    this.#chunked = chunked;
    this.#onActivity = onActivity;
  }

  /** Sends the body, from where it stands, to `socket`. */
  attach(socket: Duplex): void {
    this.#socket = socket;
    if (!this.#listening) {
      this.#listening = true;
      this.#req.on('data', (chunk: Buffer) => this.#onData(chunk));
      this.#req.on('end', () => this.#onEnd());
    }
    this.#req.resume();
  }

  /** Stops sending: the connection failed or the response ended. Unsent bytes are dropped. */
  detach(): void {
    this.#socket = undefined;
    if (!this.started) this.#req.pause();
  }

  /** No more of the body will be sent anywhere: read and drop the rest, so the client's connection can go on. */
  discard(): void {
    this.#socket = undefined;
    if (this.#listening) this.#req.resume();
  }

  #onData(chunk: Buffer): void {
    const socket = this.#socket;
    if (!socket) return;
    this.started = true;
    this.bytes += chunk.length;
    this.#onActivity();
    let ok: boolean;
    if (this.#chunked) {
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write(CRLF, 'latin1');
    } else ok = socket.write(chunk);
    if (!ok) {
      this.#req.pause();
      socket.once('drain', () => this.#req.resume());
    }
  }

  #onEnd(): void {
    if (this.#chunked) this.#socket?.write(LAST_CHUNK, 'latin1');
    this.finished = true;
  }
}
