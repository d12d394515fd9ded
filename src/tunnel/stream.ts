import { Duplex } from 'node:stream';
import { Buffer } from 'node:buffer';
import { Flag, INITIAL_WINDOW } from '../protocol/index.js';
import { TunnelErrors } from './errors.js';
import { ReceiveWindow, type WindowBudget } from './receive-window.js';
import { COPY_LIMIT } from './send-scheduler.js';

/** What a stream needs from its session; implemented by MuxSession. */
export interface StreamHost {
  /** Monotonic milliseconds. */
  now(): number;
  /** Last measured round-trip time, if any. */
  readonly rttMs: number | undefined;
  /** Queues the stream for the session's data scheduler. */
  wantSend(stream: MuxStream): void;
  /** True when a stream queued now has its data taken at once (nothing ahead, transport not backed up). */
  readonly sendsNow: boolean;
  /** Writes a window-update frame (which may carry SYN, ACK, FIN or RST) right away. */
  sendWindowUpdate(id: number, delta: number, flags: number): void;
  /** The stream is finished on the wire; forget it. */
  release(stream: MuxStream): void;
}

/** Counters of one stream, for tests and metrics. */
export interface MuxStreamStats {
  /** Payload bytes handed to the transport. */
  bytesSent: number;
  /** Payload bytes received from the peer. */
  bytesReceived: number;
  /** Bytes this side may still send before the peer grants more. */
  sendWindow: number;
  /** Largest send window seen; above 256 KiB means the peer grew its window. */
  maxSendWindow: number;
  /** Current receive window size (grows with auto-tuning). */
  receiveWindow: number;
  /** Bytes the peer may still send before this side grants more. */
  receiveCredit: number;
  /** Received bytes the consumer has not read yet. */
  bufferedBytes: number;
  /** Window-update increments sent, in bytes. */
  windowGranted: number;
}

/** Small writes gathered by `_writev` up to this size are sent as one frame. */
const COALESCE_LIMIT = 64 * 1024;

/** Receives payload straight from the session while the stream flows with nothing buffered. */
export type DirectReader = (payload: Buffer) => void;

type WriteCallback = (error: Error | null | undefined) => void;

/**
 * One multiplexed stream as a Node Duplex: `end()` half-closes (FIN), `destroy()` and
 * `reset()` abort (RST). Writes complete only once the peer's window let them onto the
 * transport; reads grant the peer more window only as the consumer takes data.
 */
export class MuxStream extends Duplex {
  /** The yamux stream id: odd when the client opened it, even when the server did. */
  readonly id: number;
  readonly #host: StreamHost;
  readonly #window: ReceiveWindow;
  #sendWindow = INITIAL_WINDOW;
  #maxSendWindow = INITIAL_WINDOW;
  #out: Buffer[] = [];
  #outHead = 0;
  #outOff = 0;
  #outCb: ((err?: Error | null) => void) | null = null;
  #bytesSent = 0;
  #bytesReceived = 0;
  #windowGranted = 0;
  #established: boolean;
  #localFin = false;
  #remoteFin = false;
  #released = false;
  #directReader: DirectReader | undefined;
  /** Flags for the first frame this stream sends: a held ACK (see holdAck). */
  #heldFlags = 0;
  /** Set by the session's scheduler while the stream is in its ready queue. */
  queued = false;

  /** Created by MuxSession only. */
  constructor(
    host: StreamHost,
    id: number,
    options: {
      initialWindow: number;
      maxWindow: number;
      established: boolean;
      budget?: WindowBudget;
    },
  ) {
    // 256 KiB of buffering each way (Node's default is 16 KiB): the initial window's worth, so a
    // pipe() feeding a stream pauses far less often and frames can reach the largest size.
    super({ allowHalfOpen: true, highWaterMark: 256 * 1024 });
    this.id = id;
    this.#host = host;
    this.#established = options.established;
    this.#window = new ReceiveWindow({
      initial: options.initialWindow,
      max: options.maxWindow,
      nowMs: host.now(),
      ...(options.budget === undefined ? {} : { budget: options.budget }),
    });
  }

  /** Snapshot of this stream's flow-control counters. */
  get stats(): MuxStreamStats {
    return {
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
      sendWindow: this.#sendWindow,
      maxSendWindow: this.#maxSendWindow,
      receiveWindow: this.#window.target,
      receiveCredit: this.#window.credit,
      bufferedBytes: this.readableLength,
      windowGranted: this.#windowGranted,
    };
  }

  /** Aborts the stream in both directions and tells the peer (RST). */
  reset(): void {
    this.destroy();
  }

  /**
   * Hands received payload to `reader` directly, without Readable's buffer and 'data' event,
   * whenever the stream is flowing with nothing buffered and the consumer's is the only 'data'
   * listener. Otherwise payload is pushed as usual, so the consumer also listens for 'data'
   * (with the same function) to get what was held back. The payload is the consumer's to keep.
   */
  setDirectReader(reader: DirectReader): void {
    this.#directReader = reader;
  }

  // ---- called by the session -------------------------------------------------------

  /** Sends the stream's SYN (opening) or ACK (accepting), granting any window above the wire default. */
  announce(flag: number): void {
    const delta = this.#window.grantAll(this.readableLength);
    this.#windowGranted += delta;
    this.#host.sendWindowUpdate(this.id, delta, flag);
  }

  /**
   * Accepts the stream without a frame of its own: the first frame it sends (data, FIN, RST or
   * a window update) carries the ACK. At once when the ACK has window to grant (an initial
   * window above the wire default), which a data frame cannot carry.
   */
  holdAck(): void {
    if (this.#window.grantAll(this.readableLength) === 0) this.#heldFlags = Flag.ACK;
    else this.announce(Flag.ACK);
  }

  /** The held flags, for the data frame being sent; cleared. */
  takeFlags(): number {
    const flags = this.#heldFlags;
    this.#heldFlags = 0;
    return flags;
  }

  /** True while the stream holds data and window to send. */
  wantsSend(): boolean {
    return this.#outHead < this.#out.length && this.#sendWindow > 0;
  }

  /** Takes the next payload of at most `limit` bytes, within the peer's window. */
  takePayload(limit: number): Buffer {
    const buf = this.#out[this.#outHead] as Buffer;
    const n = Math.min(limit, this.#sendWindow, buf.length - this.#outOff);
    const payload =
      this.#outOff === 0 && n === buf.length ? buf : buf.subarray(this.#outOff, this.#outOff + n);
    this.#outOff += n;
    if (this.#outOff === buf.length) {
      this.#outHead += 1;
      this.#outOff = 0;
    }
    this.#sendWindow -= n;
    this.#bytesSent += n;
    return payload;
  }

  /** After a payload went to the transport: completes the pending write once all of it went. */
  payloadSent(): void {
    if (this.#outHead < this.#out.length) return;
    this.#out = [];
    this.#outHead = 0;
    const cb = this.#outCb;
    this.#outCb = null;
    cb?.();
  }

  /** True when a data frame of `length` bytes fits the window this side granted. */
  fits(length: number): boolean {
    return this.#window.fits(length);
  }

  /** Delivers received payload; false when the stream can no longer take data. */
  receive(part: Buffer): boolean {
    if (this.#remoteFin || this.destroyed) return false;
    this.#window.received(part.length);
    this.#bytesReceived += part.length;
    const reader = this.#directReader;
    // Only while the consumer is the one 'data' listener: anyone else listening (byte counters)
    // must still see every chunk.
    if (
      reader !== undefined &&
      this.readableFlowing === true &&
      this.readableLength === 0 &&
      this.listenerCount('data') === 1
    )
      reader(part);
    else this.push(part);
    this.#maybeGrant();
    return true;
  }

  /** The peer increased this side's send window. */
  windowUpdate(delta: number): void {
    this.#sendWindow += delta;
    if (this.#sendWindow > this.#maxSendWindow) this.#maxSendWindow = this.#sendWindow;
    if (this.wantsSend()) this.#host.wantSend(this);
  }

  /** The peer acknowledged the stream. */
  acknowledged(): void {
    this.#established = true;
  }

  /** The peer half-closed: no more data will arrive. */
  remoteFin(): void {
    if (this.#remoteFin) return;
    this.#remoteFin = true;
    this.push(null);
    if (this.#localFin) this.#release();
  }

  /**
   * The peer reset the stream (or refused it before acknowledging). `silent` destroys it
   * without an error, for streams no caller holds yet (an error nobody listens to would crash).
   */
  remoteReset(silent: boolean): void {
    this.#release();
    if (silent) this.destroy();
    else
      this.destroy(
        this.#established ? TunnelErrors.streamReset(this.id) : TunnelErrors.streamRefused(this.id),
      );
  }

  /** The session ended; the stream dies with `err` (none when `err` is undefined) and sends nothing more. */
  sessionEnded(err: Error | undefined): void {
    this.#released = true;
    this.#window.dispose();
    this.destroy(err);
  }

  // ---- Duplex implementation ---------------------------------------------------------

  /**
   * Writable's write, with a shortcut: a small chunk that the peer's window and the transport
   * take at once (nothing queued ahead of it, no callback, not corked) goes straight to the
   * session's scheduler, as a write whose callback has already run. Everything else takes
   * Writable's path. This skips Writable's bookkeeping for each request and response.
   */
  override write(chunk: unknown, callback?: WriteCallback): boolean;
  override write(chunk: unknown, encoding: BufferEncoding, callback?: WriteCallback): boolean;
  override write(
    chunk: unknown,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    if (typeof encoding === 'function') return super.write(chunk, encoding);
    const data = typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : chunk;
    if (callback === undefined && Buffer.isBuffer(data) && this.writeIfImmediate(data)) return true;
    return super.write(data, callback);
  }

  /**
   * Writes `chunk` only when it can go to the scheduler at once (the shortcut of `write`), and
   * then is done with it: a payload of up to the scheduler's copy limit, within the window,
   * while the scheduler sends at once, is copied into the outgoing batch before this returns
   * (see SendScheduler.sendsNow), so the caller may reuse `chunk`'s memory. Returns false,
   * writing nothing, otherwise.
   */
  writeIfImmediate(chunk: Buffer): boolean {
    if (
      chunk.length === 0 ||
      chunk.length > COPY_LIMIT ||
      chunk.length > this.#sendWindow ||
      !this.#sendsDirectly()
    )
      return false;
    this.#out.push(chunk);
    this.#host.wantSend(this);
    return true;
  }

  /** True when nothing waits in Writable's queue or this stream's, and the scheduler sends at once. */
  #sendsDirectly(): boolean {
    return (
      this.#outHead === this.#out.length &&
      this.writableLength === 0 &&
      this.writableCorked === 0 &&
      !this.writableEnded &&
      !this.destroyed &&
      !this.#released &&
      this.#host.sendsNow
    );
  }

  // Consumption is observed in read() rather than _read(): Node calls _read only once per
  // push, so a _read that found too little to grant would never be called again and the
  // stream would stall with the peer out of window.
  override read(size?: number): unknown {
    const chunk: unknown = super.read(size);
    if (chunk !== null) this.#maybeGrant();
    return chunk;
  }

  override _read(): void {
    this.#maybeGrant();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    cb: (err?: Error | null) => void,
  ): void {
    if (chunk.length === 0) {
      cb();
      return;
    }
    this.#out.push(chunk);
    this.#enqueue(cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    let total = 0;
    for (const c of chunks) total += c.chunk.length;
    if (total === 0) {
      cb();
      return;
    }
    if (total <= COALESCE_LIMIT) {
      // Many small writes become one frame; copying a few KiB is cheaper than many headers.
      this.#out.push(
        Buffer.concat(
          chunks.map((c) => c.chunk),
          total,
        ),
      );
    } else {
      for (const c of chunks) if (c.chunk.length > 0) this.#out.push(c.chunk);
    }
    this.#enqueue(cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.#released) {
      cb(TunnelErrors.sessionClosed());
      return;
    }
    this.#localFin = true;
    this.#sendWindowUpdate(0, Flag.FIN);
    if (this.#remoteFin) this.#release();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Not yet released means not closed on the wire (both FINs release it): abort with RST.
    if (!this.#released) {
      this.#sendWindowUpdate(0, Flag.RST);
      this.#release();
    }
    this.#out = [];
    this.#outHead = 0;
    const pending = this.#outCb;
    this.#outCb = null;
    if (pending !== null && err !== null) pending(err);
    cb(err);
  }

  #enqueue(cb: (err?: Error | null) => void): void {
    if (this.#released) {
      this.#out = [];
      cb(TunnelErrors.sessionClosed());
      return;
    }
    this.#outCb = cb;
    if (this.#sendWindow > 0) this.#host.wantSend(this);
  }

  #maybeGrant(): void {
    if (this.#remoteFin || this.#released || !this.#window.worthGranting(this.readableLength))
      return;
    const delta = this.#window.grant(this.readableLength, {
      nowMs: this.#host.now(),
      rttMs: this.#host.rttMs,
    });
    if (delta === 0) return;
    this.#windowGranted += delta;
    this.#sendWindowUpdate(delta, 0);
  }

  #sendWindowUpdate(delta: number, flags: number): void {
    this.#host.sendWindowUpdate(this.id, delta, flags | this.takeFlags());
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#window.dispose();
    this.#host.release(this);
  }
}
