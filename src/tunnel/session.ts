import { EventEmitter } from 'node:events';
import type { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { PosternError } from '../core/index.js';
import { Flag, FrameDecoder, FrameType, GoAwayCode } from '../protocol/index.js';
import type { Frame, FrameHeader } from '../protocol/index.js';
import { AcceptQueue } from './accept-queue.js';
import { TunnelErrors } from './errors.js';
import { Keepalive } from './keepalive.js';
import { resolveSessionOptions } from './options.js';
import type { ResolvedSessionOptions, SessionOptions } from './options.js';
import { PingTracker } from './ping-tracker.js';
import { SendScheduler } from './send-scheduler.js';
import { MuxStream } from './stream.js';
import { WindowBudget } from './receive-window.js';
import type { StreamHost } from './stream.js';

const MAX_STREAM_ID = 0xffff_ffff;
/** How long a finished session waits for the transport to flush before destroying it. */
const TRANSPORT_LINGER_MS = 2000;

// This file is longer than most: the session is one state machine (stream table, go-away
// and close states, inbound dispatch) and splitting the dispatch from the state it guards
// would spread each invariant over several files. Accepting, pings, keepalive, sending and
// receive windows live in their own files.

/**
 * A yamux session over any Duplex transport: opens and accepts streams, runs per-stream
 * flow control, keepalive and go-away. Events: 'stream' (peer-opened stream, bypassing the
 * accept backlog while a listener exists), 'goaway' (code), 'error' (only when listened
 * to), 'close' (err?).
 */
export class MuxSession extends EventEmitter implements StreamHost {
  readonly #t: Duplex;
  readonly #o: ResolvedSessionOptions;
  readonly #decoder: FrameDecoder;
  readonly #sender: SendScheduler;
  readonly #pings: PingTracker;
  readonly #keepalive: Keepalive | undefined;
  readonly #streams = new Map<number, MuxStream>();
  readonly #accepts = new AcceptQueue<MuxStream>();
  readonly #windowBudget: WindowBudget;
  #nextId: number;
  #curHeader: FrameHeader | undefined;
  #curStream: MuxStream | undefined;
  #closed = false;
  #goingAway = false;
  #remoteGoingAway = false;
  #closing: Promise<void> | undefined;
  #onIdle: (() => void) | undefined;

  constructor(transport: Duplex, options: SessionOptions) {
    super();
    this.#t = transport;
    this.#o = resolveSessionOptions(options);
    this.#nextId = this.#o.role === 'client' ? 1 : 2;
    this.#windowBudget = new WindowBudget(this.#o.maxSessionWindow);
    this.#decoder = new FrameDecoder(
      { onFrame: (f) => this.#onFrame(f), onDataPart: (h, p, end) => this.#onDataPart(h, p, end) },
      { maxFrameSize: this.#o.maxFrameSize, streaming: true },
    );
    this.#sender = new SendScheduler(transport);
    this.#pings = new PingTracker(this.#o.clock);
    transport.on('data', this.#onTransportData);
    this.#o.directReads?.start(transport, this.#onTransportData);
    transport.on('end', this.#onTransportEnd);
    transport.on('close', this.#onTransportEnd);
    transport.on('error', this.#onTransportError);
    if (this.#o.keepAliveIntervalMs > 0) {
      this.#keepalive = new Keepalive({
        clock: this.#o.clock,
        intervalMs: this.#o.keepAliveIntervalMs,
        timeoutMs: this.#o.keepAliveTimeoutMs,
        sendPing: () => this.#sendPing(),
        onDead: () => this.destroy(TunnelErrors.keepaliveTimeout(this.#o.keepAliveTimeoutMs)),
      });
    }
    // An early RTT sample lets window tuning start from a measured value.
    this.#sendPing();
  }

  /** Last measured round-trip time in ms, from pings and keepalives. */
  get rttMs(): number | undefined {
    return this.#pings.rttMs;
  }

  /** True once the session has ended (gracefully or not). */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once this side sent go-away. */
  get goingAway(): boolean {
    return this.#goingAway;
  }

  /** True once the peer sent go-away. */
  get remoteGoingAway(): boolean {
    return this.#remoteGoingAway;
  }

  /** Streams currently open in either direction, including ones not yet accepted. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Opens a stream to the peer; throws a coded error when the session cannot take one. */
  openStream(): MuxStream {
    if (this.#closed) throw TunnelErrors.sessionClosed();
    if (this.#goingAway) throw TunnelErrors.goingAway();
    if (this.#remoteGoingAway) throw TunnelErrors.remoteGoingAway();
    if (this.#streams.size >= this.#o.maxStreams)
      throw TunnelErrors.tooManyStreams(this.#o.maxStreams);
    const id = this.#nextId;
    if (id > MAX_STREAM_ID) throw TunnelErrors.streamsExhausted();
    this.#nextId += 2;
    const stream = this.#newStream(id, false);
    stream.announce(Flag.SYN);
    return stream;
  }

  /** Resolves with the next stream the peer opened. */
  accept(options: { signal?: AbortSignal } = {}): Promise<MuxStream> {
    const ready = this.#accepts.take();
    if (ready !== undefined) {
      // The peer learns of the acceptance (ACK) only now, as with hashicorp/yamux.
      ready.announce(Flag.ACK);
      return Promise.resolve(ready);
    }
    const refusal = this.#acceptRefusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return this.#accepts.wait(options.signal);
  }

  /** Measures the round-trip time to the peer in ms. */
  ping(): Promise<number> {
    if (this.#closed) return Promise.reject(TunnelErrors.sessionClosed());
    return new Promise((resolve, reject) => {
      this.#sendPing({ resolve, reject });
    });
  }

  /** Tells the peer no new streams will be accepted or opened; existing streams finish. */
  goAway(code: number = GoAwayCode.Normal): void {
    if (this.#closed || this.#goingAway) return;
    this.#goingAway = true;
    this.#sender.writeControl(goAwayHeader(code));
    this.#accepts.rejectWaiters(TunnelErrors.goingAway());
  }

  /** Sends go-away, waits (up to closeTimeoutMs) for streams to end, then ends the transport. */
  close(): Promise<void> {
    this.#closing ??= this.#closeGracefully();
    return this.#closing;
  }

  /** Ends the session at once; every stream errors with a coded error. */
  destroy(err?: Error): void {
    this.#finish(err, { graceful: false });
  }

  // ---- StreamHost ---------------------------------------------------------------------

  /** @internal Monotonic time for streams. */
  now(): number {
    return this.#o.clock.monotonic();
  }

  /** @internal */
  wantSend(stream: MuxStream): void {
    this.#sender.wantSend(stream);
  }

  /** @internal */
  get sendsNow(): boolean {
    return this.#sender.sendsNow;
  }

  /** @internal */
  sendWindowUpdate(id: number, delta: number, flags: number): void {
    if (!this.#closed)
      this.#sender.writeControl({
        type: FrameType.WindowUpdate,
        flags,
        streamId: id,
        length: delta,
      });
  }

  /** @internal */
  release(stream: MuxStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    this.#accepts.delete(stream);
    if (this.#streams.size === 0) this.#onIdle?.();
  }

  // ---- inbound ------------------------------------------------------------------------

  readonly #onTransportData = (chunk: Buffer): void => {
    this.#keepalive?.touch();
    try {
      this.#decoder.push(chunk);
    } catch (err) {
      this.#inboundFailure(err);
    }
  };

  #onFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.WindowUpdate: {
        const stream = this.#streamFor(frame);
        if (stream === undefined) return;
        if (frame.length > 0) stream.windowUpdate(frame.length);
        this.#applyCloseFlags(stream, frame.flags);
        return;
      }
      case FrameType.Ping:
        if (frame.flags === Flag.SYN)
          this.#sender.writeControl({
            type: FrameType.Ping,
            flags: Flag.ACK,
            streamId: 0,
            length: frame.length,
          });
        else this.#pings.answered(frame.length);
        return;
      case FrameType.GoAway:
        this.#onGoAway(frame.length);
        return;
      default:
        return;
    }
  }

  #onDataPart(header: FrameHeader, part: Buffer, end: boolean): void {
    let stream = this.#curStream;
    if (header !== this.#curHeader) {
      this.#curHeader = header;
      stream = this.#curStream = this.#streamFor(header);
    }
    if (stream !== undefined && part.length > 0 && !stream.receive(part)) {
      // Data after the peer's FIN, or for a stream being torn down: abort that stream only.
      this.#curStream = undefined;
      const unheld = this.#accepts.delete(stream);
      stream.destroy(
        unheld ? undefined : TunnelErrors.protocol(`data after close on stream ${header.streamId}`),
      );
      return;
    }
    if (end) {
      this.#curHeader = undefined;
      this.#curStream = undefined;
      if (stream !== undefined) this.#applyCloseFlags(stream, header.flags);
    }
  }

  /** Finds (or, for SYN, creates) the stream a frame belongs to; undefined means drop the frame. */
  #streamFor(header: FrameHeader): MuxStream | undefined {
    const { flags, streamId: id } = header;
    if ((flags & Flag.SYN) !== 0 && !this.#incoming(id)) return undefined;
    const stream = this.#streams.get(id);
    if (stream === undefined) {
      // Late frames for a stream already reset or closed; data still needs a RST so the
      // peer stops sending, window updates can simply be dropped.
      if (header.type === FrameType.Data && (flags & Flag.RST) === 0) this.#reset(id);
      this.#o.logger?.debug(
        { stream: id, type: header.type, flags },
        'tunnel frame for unknown stream',
      );
      return undefined;
    }
    if ((flags & Flag.ACK) !== 0) stream.acknowledged();
    if (header.type === FrameType.Data && !stream.fits(header.length)) {
      throw TunnelErrors.protocol(`stream ${id} sent ${header.length} bytes beyond its window`);
    }
    return stream;
  }

  /** Handles a SYN: false when the stream is refused (RST sent). */
  #incoming(id: number): boolean {
    const ownParity = this.#o.role === 'client' ? 1 : 0;
    // Only parity and duplicates are errors: concurrent openers (hashicorp/yamux with many
    // goroutines) put SYNs on the wire out of id order, and the spec allows that.
    if ((id & 1) === ownParity)
      throw TunnelErrors.protocol(`stream ${id} opened with this side's id parity`);
    if (this.#streams.has(id)) throw TunnelErrors.protocol(`stream ${id} opened twice`);
    const direct = this.listenerCount('stream') > 0;
    if (
      this.#goingAway ||
      this.#streams.size >= this.#o.maxStreams ||
      (!direct && this.#accepts.waiting === 0 && this.#accepts.size >= this.#o.acceptBacklog)
    ) {
      this.#o.logger?.debug(
        { stream: id },
        'tunnel stream refused (going away, stream cap or backlog full)',
      );
      this.#reset(id);
      return false;
    }
    const stream = this.#newStream(id, true);
    if (direct && this.#o.ackWithFirstFrame) stream.holdAck();
    else if (direct || this.#accepts.waiting > 0) stream.announce(Flag.ACK);
    if (direct) this.emit('stream', stream);
    else this.#accepts.offer(stream);
    return true;
  }

  #applyCloseFlags(stream: MuxStream, flags: number): void {
    if ((flags & Flag.RST) !== 0) stream.remoteReset(this.#accepts.has(stream));
    else if ((flags & Flag.FIN) !== 0) stream.remoteFin();
  }

  #onGoAway(code: number): void {
    this.#remoteGoingAway = true;
    this.emit('goaway', code);
    if (code !== GoAwayCode.Normal) {
      this.destroy(TunnelErrors.remoteError(code));
      return;
    }
    if (this.#accepts.size === 0) this.#accepts.rejectWaiters(TunnelErrors.remoteGoingAway());
  }

  #inboundFailure(err: unknown): void {
    const protocol =
      err instanceof PosternError &&
      (err.code.startsWith('POSTERN_ERR_FRAME_') || err.code === 'POSTERN_ERR_TUNNEL_PROTOCOL');
    const code = protocol ? GoAwayCode.ProtocolError : GoAwayCode.InternalError;
    const error =
      protocol && err.code !== 'POSTERN_ERR_TUNNEL_PROTOCOL'
        ? TunnelErrors.protocol(err.message, err)
        : err;
    this.#o.logger?.warn({ err: error }, 'tunnel session failed on inbound data');
    if (!this.#closed) this.#sender.stop(goAwayHeader(code));
    this.#finish(error instanceof Error ? error : new Error(String(error)), { graceful: true });
  }

  readonly #onTransportEnd = (): void => {
    if (this.#closed) return;
    const err =
      this.#streams.size > 0 ? TunnelErrors.transport(new Error('transport ended')) : undefined;
    this.#finish(err, { graceful: true });
  };

  readonly #onTransportError = (err: Error): void => {
    if (!this.#closed) this.#finish(TunnelErrors.transport(err), { graceful: false });
  };

  // ---- lifecycle ----------------------------------------------------------------------

  #newStream(id: number, established: boolean): MuxStream {
    const stream = new MuxStream(this, id, {
      initialWindow: this.#o.initialWindow,
      maxWindow: this.#o.maxWindow,
      established,
      budget: this.#windowBudget,
    });
    this.#streams.set(id, stream);
    return stream;
  }

  #reset(id: number): void {
    this.#sender.writeControl({
      type: FrameType.WindowUpdate,
      flags: Flag.RST,
      streamId: id,
      length: 0,
    });
  }

  #sendPing(waiter?: { resolve: (rttMs: number) => void; reject: (err: Error) => void }): void {
    this.#sender.writeControl({
      type: FrameType.Ping,
      flags: Flag.SYN,
      streamId: 0,
      length: this.#pings.start(waiter),
    });
  }

  #acceptRefusal(): Error | undefined {
    if (this.#closed) return TunnelErrors.sessionClosed();
    if (this.#goingAway) return TunnelErrors.goingAway();
    if (this.#remoteGoingAway) return TunnelErrors.remoteGoingAway();
    return undefined;
  }

  async #closeGracefully(): Promise<void> {
    this.goAway(GoAwayCode.Normal);
    if (this.#streams.size > 0 && !this.#closed) {
      const timedOut = await new Promise<boolean>((resolve) => {
        const timer = this.#o.clock.setTimeout(() => resolve(true), this.#o.closeTimeoutMs);
        this.#onIdle = () => {
          this.#o.clock.clearTimeout(timer);
          resolve(false);
        };
      });
      this.#onIdle = undefined;
      if (timedOut)
        this.#finish(TunnelErrors.closeTimeout(this.#o.closeTimeoutMs), { graceful: true });
    }
    this.#finish(undefined, { graceful: true });
  }

  #finish(err: Error | undefined, options: { graceful: boolean }): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#keepalive?.stop();
    this.#sender.stop();
    this.#onIdle?.();
    const streamErr = err instanceof PosternError ? err : TunnelErrors.sessionClosed(err);
    // Streams still waiting in the backlog have no owner to hear an error.
    for (const stream of [...this.#streams.values()]) {
      stream.sessionEnded(this.#accepts.has(stream) ? undefined : streamErr);
    }
    this.#streams.clear();
    this.#accepts.clear();
    this.#pings.failAll(streamErr);
    this.#accepts.rejectWaiters(streamErr);
    this.#t.off('data', this.#onTransportData);
    this.#o.directReads?.stop(this.#t);
    // Keep an error listener: a late transport error must not crash the process.
    this.#t.off('error', this.#onTransportError);
    this.#t.on('error', noop);
    if (options.graceful) this.#endTransport();
    else this.#t.destroy();
    process.nextTick(() => {
      if (err !== undefined && this.listenerCount('error') > 0) this.emit('error', err);
      this.emit('close', err);
    });
  }

  #endTransport(): void {
    const t = this.#t;
    if (t.destroyed) return;
    const timer = this.#o.clock.setTimeout(() => t.destroy(), TRANSPORT_LINGER_MS);
    timer.unref?.();
    t.once('close', () => this.#o.clock.clearTimeout(timer));
    t.end();
  }
}

function noop(): void {}

function goAwayHeader(code: number): FrameHeader {
  return { type: FrameType.GoAway, flags: 0, streamId: 0, length: code };
}
