import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { readDirectly, takeViews, writeImmediately, type ViewReader } from './io-shortcuts.js';
import { holdWritesUntilTurnEnd } from './turn-writes.js';

/**
 * Bytes one direction may gather in a corked destination before reading from the source
 * pauses; also what one write carries at most under bulk load.
 */
const TURN_BATCH_BYTES = 256 * 1024;

/**
 * Pieces at least this large are bulk transfer and wait for the end of the turn whatever the
 * destination; smaller ones (requests, responses, keystrokes) wait only for a kernel socket
 * (see turn-writes.ts), as a tunnel stream's sender batches small frames by itself.
 */
const BULK_PIECE_BYTES = 8 * 1024;

/** Options of {@link joinStreams}. */
export interface JoinOptions {
  /**
   * `b`'s reads arrive here (views of a reused buffer, from a connection dialed with a view
   * reader) instead of as 'data' events. A view `a` cannot take at once is copied.
   */
  readonly bViews?: ViewReader | undefined;
}

/**
 * Joins two byte streams both ways with backpressure and half-close: an end on one side
 * ends the other's writable side; an error on either side cuts both, a TCP side with a reset
 * (RST) rather than a FIN, so its peer learns the stream was cut and not finished. `onClose`
 * runs once when both have closed, with `closed` or the code of the error that cut them.
 */
export function joinStreams(
  a: Duplex,
  b: Duplex,
  onClose: (reason: string) => void,
  options: JoinOptions = {},
): void {
  let reason = 'closed';
  let open = 2;
  const cut = (err?: Error): void => {
    if (err && reason === 'closed') reason = (err as { code?: string }).code ?? 'error';
    abort(a);
    abort(b);
  };
  const closedOne = (other: Duplex) => (): void => {
    open -= 1;
    if (open === 0) onClose(reason);
    else if (reason !== 'closed') cut();
    else if (!other.writableEnded) other.end();
  };
  a.once('close', closedOne(b));
  b.once('close', closedOne(a));
  a.on('error', cut);
  b.on('error', cut);
  pump(a, b);
  pump(b, a, options.bViews);
}

/**
 * Destroys a side that was cut: a TCP socket with a reset, so that a truncated plaintext stream
 * does not look complete to its peer; anything else (a tunnel stream resets by itself, a Unix
 * socket cannot) just destroyed.
 */
function abort(side: Duplex): void {
  if (side.destroyed) return;
  const socket = side as Partial<Socket>;
  if (typeof socket.resetAndDestroy === 'function' && socket.readyState !== 'opening') {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // Not a TCP handle (a Unix socket): a plain destroy below.
    }
  }
  side.destroy();
}

/**
 * Copies `src` into `dst` like `src.pipe(dst)`, but holds `dst`'s writes until the end of the
 * event-loop turn (a kernel socket always, anything under bulk transfer): what arrives in one
 * turn (a TLS record decrypts into 16 KiB pieces, a tunnel read into many frames, many streams'
 * requests) leaves in one write instead of one system call per piece. Reading pauses once
 * `TURN_BATCH_BYTES` wait, and resumes when `dst` drains.
 */
function pump(src: Duplex, dst: Duplex, views?: ViewReader): void {
  const socket = dst instanceof Socket;
  let paused = false;
  const onDrain = (): void => {
    paused = false;
    src.resume();
  };
  const onData = (chunk: Buffer): void => {
    if (dst.destroyed || dst.writableEnded) return;
    if (socket || chunk.length >= BULK_PIECE_BYTES) holdWritesUntilTurnEnd(dst);
    dst.write(chunk);
    if (dst.writableLength >= TURN_BATCH_BYTES && !paused) {
      paused = true;
      src.pause();
      dst.once('drain', onDrain);
    }
  };
  if (views) {
    // A view of the shared buffer goes into the destination's batch, or is copied.
    takeViews(views, (view, owned) => {
      if (owned) onData(view);
      else if (!writeImmediately(dst, view)) onData(Buffer.from(view));
    });
  } else {
    src.on('data', onData);
    readDirectly(src, onData);
  }
  src.once('end', () => {
    if (!dst.destroyed && !dst.writableEnded) dst.end();
  });
  // As pipe() does: a source paused before the join (bytes held back meanwhile) flows now.
  src.resume();
}
