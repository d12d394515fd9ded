// Reads of a socket taken straight from its handle, the way Node's `onread` option reads a
// socket that net.connect or tls.connect opened: the handle reads into one buffer shared by all
// such sockets, and each read reaches the consumer as a small copy from Node's buffer pool. The
// usual path allocates a buffer per read (malloc, an ArrayBuffer, freed later by the garbage
// collector's sweeper thread, which contends for the allocator's lock) and runs it through
// Readable's push, buffer and 'data' event: measurable on an edge that reads one client request
// per read, and on both ends of a tunnel. Sockets a server accepted have no public option for
// this, and a tunnel's socket is opened by code that does not know who reads it, so the
// mechanism behind `onread` is found at run time on a probe socket; where it is not found
// (another Node version) or the socket's handle cannot read into a given buffer, nothing
// changes.
//
// The socket's Readable side keeps working: while it is paused, buffers something, or has no
// direct reader, reads are pushed there as before and come out as 'data' events, read() or pipe.
import { Buffer } from 'node:buffer';
import net from 'node:net';
import { Duplex } from 'node:stream';

interface Mechanism {
  readonly buffer: symbol;
  readonly callback: symbol;
}

interface ReadsState {
  onData: ((chunk: Buffer) => void) | undefined;
}

type Handle = { useUserBuffer?: (buffer: Uint8Array) => void };
type SocketInternals = Record<symbol, unknown> & { _handle?: Handle | null };

/** Where the handles of all sockets read into; each read is copied out before the next. */
const shared = Buffer.allocUnsafe(64 * 1024);
const states = new WeakMap<net.Socket, ReadsState>();
let mechanism: Mechanism | null | undefined;

function pauseReadable(this: net.Socket): net.Socket {
  Duplex.prototype.pause.call(this);
  return this;
}

/** The symbols under which net.Socket keeps an `onread` buffer and callback; null if none. */
function findMechanism(): Mechanism | null {
  const buffer = Buffer.alloc(1);
  const callback = (): boolean => true;
  const probe = new net.Socket({ onread: { buffer, callback } } as net.SocketConstructorOpts);
  const fields = probe as unknown as SocketInternals;
  const symbols = Object.getOwnPropertySymbols(probe);
  const bufferKey = symbols.find((s) => fields[s] === buffer);
  const callbackKey = symbols.find((s) => fields[s] === callback);
  probe.destroy();
  return bufferKey && callbackKey ? { buffer: bufferKey, callback: callbackKey } : null;
}

/**
 * Hands the reads of `socket` to `onData` (a buffer the consumer owns) directly while the socket
 * flows with nothing buffered; the consumer keeps `onData` as its 'data' listener too, which
 * gets what the Readable side buffered meanwhile (while paused, or unshifted), in order. False
 * when the socket cannot be read this way, or is not a socket (it then reads as usual).
 */
export function readSocketDirectly(socket: Duplex, onData: (chunk: Buffer) => void): boolean {
  if (!(socket instanceof net.Socket)) return false;
  let state = states.get(socket);
  if (state === undefined) {
    mechanism ??= findMechanism();
    const fields = socket as unknown as SocketInternals;
    const handle = fields._handle;
    if (mechanism === null || typeof handle?.useUserBuffer !== 'function' || socket.destroyed)
      return false;
    if (fields[mechanism.buffer]) return false; // opened with its own `onread`
    const s: ReadsState = { onData: undefined };
    fields[mechanism.buffer] = shared;
    // Node calls this with the byte count of each read into `shared`; false stops reading
    // until the Readable side wants more.
    fields[mechanism.callback] = (n: number): boolean => {
      const chunk = Buffer.allocUnsafe(n);
      shared.copy(chunk, 0, 0, n);
      const direct = s.onData;
      if (direct === undefined || socket.readableFlowing !== true || socket.readableLength > 0)
        return socket.push(chunk);
      direct(chunk);
      return true;
    };
    handle.useUserBuffer(shared);
    // net.Socket stops its handle on pause() when reading into a given buffer; Readable's own
    // pause keeps it reading until the buffer is full, as without one, so that a paused socket
    // still sees its peer's end.
    socket.pause = pauseReadable;
    states.set(socket, (state = s));
  }
  state.onData = onData;
  return true;
}

/** Reads of `socket` go to its Readable side alone again (its consumer hands it over). */
export function stopReadingSocketDirectly(socket: Duplex): void {
  const state = socket instanceof net.Socket ? states.get(socket) : undefined;
  if (state !== undefined) state.onData = undefined;
}

/** Both functions, for a tunnel session's `directReads` option. */
export const directSocketReads = {
  start: readSocketDirectly,
  stop: stopReadingSocketDirectly,
} as const;
