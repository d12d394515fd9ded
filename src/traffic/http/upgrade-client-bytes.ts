import type { Duplex } from 'node:stream';

/** Client bytes held (after the request, before the node's answer) before reading pauses. */
const HOLD_BYTES = 65536;

/**
 * The client's bytes after an Upgrade request's head, until the node's answer says what they
 * are: the request's declared body goes to the node at once, the rest is held. After a 101 the
 * held bytes are the new protocol's; after a refused upgrade they are the next request's (the
 * connection stays HTTP) or dropped (it closes). Reading pauses while `HOLD_BYTES` are held.
 */
export class UpgradeClientBytes {
  readonly #client: Duplex;
  #upstream: Duplex | undefined;
  /** Declared request body bytes still to pass to the node. */
  #bodyLeft: number;
  #held: Buffer | undefined;
  #dropping = false;
  /** Every byte read from the client so far. */
  bytes = 0;

  /** `bodyLength` is the request's Content-Length (0 without a body). */
  constructor(client: Duplex, bodyLength: number) {
    this.#client = client;
    this.#bodyLeft = Math.max(0, bodyLength);
  }

  /** True when part of the request body has not arrived yet. */
  get bodyUnread(): boolean {
    return this.#bodyLeft > 0;
  }

  /** Starts reading: `early` (bytes read with the head) first, then the client's. */
  attach(upstream: Duplex, early: Buffer): void {
    this.#upstream = upstream;
    this.#client.on('data', this.#onData);
    if (early.length > 0) this.#onData(early);
    this.#client.resume();
  }

  /** From now on, bytes past the body are read and dropped (the connection will close). */
  drop(): void {
    this.#dropping = true;
    this.#held = undefined;
    this.#client.resume();
  }

  /** Stops reading; returns the bytes held. */
  detach(): Buffer | undefined {
    this.#upstream = undefined;
    this.#client.off('data', this.#onData);
    const held = this.#held;
    this.#held = undefined;
    return held;
  }

  readonly #onData = (chunk: Buffer): void => {
    this.bytes += chunk.length;
    let rest = chunk;
    const upstream = this.#upstream;
    if (this.#bodyLeft > 0 && upstream !== undefined) {
      const n = Math.min(this.#bodyLeft, chunk.length);
      this.#bodyLeft -= n;
      if (!upstream.write(chunk.subarray(0, n))) {
        this.#client.pause();
        upstream.once('drain', () => {
          // Not after detach: the client's reading then belongs to the tunnel or the server.
          if (this.#upstream !== undefined && (this.#held?.length ?? 0) < HOLD_BYTES)
            this.#client.resume();
        });
      }
      rest = chunk.subarray(n);
    }
    if (rest.length === 0 || this.#dropping) return;
    this.#held = this.#held === undefined ? Buffer.from(rest) : Buffer.concat([this.#held, rest]);
    if (this.#held.length >= HOLD_BYTES) this.#client.pause();
  };
}
