import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { encodeDataHeader, encodeHeader, FrameType, HEADER_SIZE } from '../protocol/index.js';

const EXP = process.env['POSTERN_EXP'] ?? 'split';
const COPY_LIMIT = Number(process.env['POSTERN_COPY'] ?? 16 * 1024);

/** Largest data frame this side sends; big enough to amortise headers, small enough to interleave streams. */
export const MAX_DATA_FRAME = 128 * 1024;

/** Bytes queued in the transport before senders pause until 'drain'. */
export const WRITE_BUDGET = 1024 * 1024;

/** The part of a stream the scheduler drives. */
export interface Sendable {
  readonly id: number;
  queued: boolean;
  wantsSend(): boolean;
  takePayload(limit: number): Buffer;
  payloadSent(): void;
}

/**
 * Writes frames to the transport. Data from ready streams goes out round-robin, one frame
 * per turn, so no stream can monopolise the link; all senders pause together while the
 * transport is backed up and resume on 'drain'. Control frames skip the queue.
 */
export class SendScheduler {
  readonly #transport: Duplex;
  readonly #budget: number;
  #ready: Sendable[] = [];
  #head = 0;
  #flushing = false;
  #blocked = false;
  #stopped = false;
  #control: Buffer[] = [];
  #controlBytes = 0;
  #controlTimer: NodeJS.Immediate | undefined;

  constructor(transport: Duplex) {
    this.#transport = transport;
    this.#budget = Math.max(WRITE_BUDGET, transport.writableHighWaterMark);
    transport.on('drain', this.#onDrain);
  }

  /** True while senders wait for the transport to drain. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Queues a stream that has data and window; sends right away unless the transport is backed up. */
  wantSend(stream: Sendable): void {
    if (this.#stopped) return;
    if (!stream.queued) {
      stream.queued = true;
      this.#ready.push(stream);
    }
    if (!this.#flushing && !this.#blocked) this.#flush();
  }

  /**
   * Queues a small control frame. Control frames go out together once per event-loop turn
   * (many streams' window updates in one write instead of one tiny TLS record each), and
   * always before any later data frame, so a SYN or FIN keeps its place in the stream.
   */
  writeControl(frame: Buffer): void {
    if (this.#stopped) return;
    this.#control.push(frame);
    this.#controlBytes += frame.length;
    this.#controlTimer ??= setImmediate(this.#flushControl);
  }

  /** Writes pending control frames and a last frame (if any), then stops sending for good. */
  stop(finalFrame?: Buffer): void {
    if (finalFrame !== undefined && !this.#stopped) this.writeControl(finalFrame);
    this.#flushControl();
    this.#stopped = true;
    this.#ready = [];
    this.#head = 0;
    this.#transport.off('drain', this.#onDrain);
  }

  readonly #flushControl = (): void => {
    if (this.#controlTimer !== undefined) clearImmediate(this.#controlTimer);
    this.#controlTimer = undefined;
    if (this.#control.length === 0 || this.#stopped) return;
    const frames = this.#control;
    const bytes = this.#controlBytes;
    this.#control = [];
    this.#controlBytes = 0;
    this.#transport.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames, bytes));
  };

  readonly #onDrain = (): void => {
    this.#blocked = false;
    if (!this.#flushing) this.#flush();
  };

  #writeData(id: number, payload: Buffer): void {
    const t = this.#transport;
    if (EXP === 'cork') {
      t.cork();
      if (this.#control.length > 0) this.#flushControl();
      t.write(encodeDataHeader(id, { length: payload.length }));
      t.write(payload);
      t.uncork();
      return;
    }
    if (payload.length > COPY_LIMIT) {
      if (this.#control.length > 0) this.#flushControl();
      t.write(encodeDataHeader(id, { length: payload.length }));
      t.write(payload);
      return;
    }
    const controlBytes = this.#controlBytes;
    const out = Buffer.allocUnsafe(controlBytes + HEADER_SIZE + payload.length);
    let at = 0;
    for (const frame of this.#control) at += frame.copy(out, at);
    this.#control = [];
    this.#controlBytes = 0;
    encodeHeader({ type: FrameType.Data, flags: 0, streamId: id, length: payload.length }, out.subarray(at));
    payload.copy(out, at + HEADER_SIZE);
    t.write(out);
  }

  #flush(): void {
    this.#flushing = true;
    const t = this.#transport;
    while (!this.#blocked && !this.#stopped && this.#head < this.#ready.length) {
      const stream = this.#ready[this.#head] as Sendable;
      this.#head += 1;
      stream.queued = false;
      if (!stream.wantsSend()) continue;
      this.#writeData(stream.id, stream.takePayload(MAX_DATA_FRAME));
      if (EXP === 'cork' ? t.writableLength >= this.#budget : t.writableLength > 0 && t.writableNeedDrain) this.#blocked = true;
      // Completing the write may make the stream (or another) queue more data.
      stream.payloadSent();
      if (!stream.queued && stream.wantsSend()) {
        stream.queued = true;
        this.#ready.push(stream);
      }
    }
    if (this.#head === this.#ready.length) {
      this.#ready.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#ready = this.#ready.slice(this.#head);
      this.#head = 0;
    }
    this.#flushing = false;
  }
}
