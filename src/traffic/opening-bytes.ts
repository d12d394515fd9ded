import type { Readable } from 'node:stream';

/**
 * Client bytes read while a TCP session's upstream is being dialed are kept up to this size;
 * past it the client is paused until the upstream is there. Enough for the first flight of
 * most protocols (a request, a TLS ClientHello), well inside a tunnel stream's first window.
 */
export const OPENING_BYTES_MAX = 64 * 1024;

/**
 * What an upstream receives first, before anything else the client sends: the PROXY header,
 * then the client's bytes read while the session waited in its pool's queue or for its dial.
 * A tunnel dialer sends them right behind its dial header instead of after the connector's
 * dial result, which saves that round trip before the application sees its first bytes.
 * Every chunk stays kept until the session is joined, so that after a failed dial the next
 * attempt (another node, another connector) gets all of them again: nothing reached a node.
 */
export class OpeningBytes {
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #write: ((chunk: Buffer) => void) | undefined;
  /** Chunks the current writer has been given. */
  #sent = 0;

  /** Bytes kept. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends a chunk (handed to the writer at once, when one is attached). */
  add(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#write !== undefined) {
      this.#sent += 1;
      this.#write(chunk);
    }
  }

  /** Gives `write` every chunk kept so far and each one added until {@link detach}. */
  sendTo(write: (chunk: Buffer) => void): void {
    this.#write = write;
    this.#sent = 0;
    for (const chunk of this.#chunks) {
      this.#sent += 1;
      write(chunk);
    }
  }

  /**
   * Stops handing chunks to the writer. After a dial that succeeded, `sent` says the upstream
   * has them; after one that failed, the next writer gets all of them again.
   */
  detach(): void {
    this.#write = undefined;
  }

  /** The chunks the last writer was not given (all of them when none was attached). */
  unsent(): Buffer[] {
    return this.#chunks.slice(this.#sent);
  }

  /** Forgets the last writer, so that {@link unsent} holds every chunk again (a failed dial). */
  resend(): void {
    this.#write = undefined;
    this.#sent = 0;
  }
}

/**
 * Reads `client` into `opening` until the returned function is called (which pauses the client
 * again); pauses early once {@link OPENING_BYTES_MAX} bytes are kept.
 */
export function readOpening(client: Readable, opening: OpeningBytes): () => void {
  const onData = (chunk: Buffer): void => {
    opening.add(chunk);
    if (opening.bytes >= OPENING_BYTES_MAX) client.pause();
  };
  if (opening.bytes < OPENING_BYTES_MAX) {
    client.on('data', onData);
    client.resume();
  }
  return () => {
    client.off('data', onData);
    client.pause();
  };
}
