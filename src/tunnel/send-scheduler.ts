import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { encodeHeader, FrameType, HEADER_SIZE } from '../protocol/index.js';
import type { FrameHeader } from '../protocol/index.js';

/** Largest data frame this side sends; big enough to amortise headers, small enough to interleave streams. */
export const MAX_DATA_FRAME = 128 * 1024;

/**
 * Payloads up to this size are copied behind their header into one buffer (one write, one
 * TLS record); larger ones are written after a separate header so they are never copied
 * (Node's TLS socket would concatenate a corked header and payload, copying the payload).
 */
export const COPY_LIMIT = 16 * 1024;

/** Small frames gathered in one event-loop turn are written together up to this size. */
const BATCH_LIMIT = 64 * 1024;

/**
 * A batch is written once it holds this many frames, without waiting for the end of the turn.
 * A few frames already share one write; holding a whole burst back (a turn can take dozens of
 * requests) leaves the peer idle meanwhile, so the hops move as one wave instead of working
 * side by side. Measured with 64 keep-alive clients through the tunnel: 4 frames gave 5–15%
 * more requests/s than a whole turn; since the writes to clients and nodes wait for the end of
 * the turn (traffic/turn-writes.ts), 8 frames gave about 7% more than 4 (16 no more than 8).
 */
const BATCH_FRAMES = 8;

/** The part of a stream the scheduler drives. */
export interface Sendable {
  readonly id: number;
  queued: boolean;
  wantsSend(): boolean;
  takePayload(limit: number): Buffer;
  /** Flags the next data frame carries (a held ACK), once; 0 for none. */
  takeFlags(): number;
  payloadSent(): void;
}

/**
 * Writes frames to the transport. Data from ready streams goes out round-robin, one frame
 * per turn, so no stream can monopolise the link. All senders pause while the transport
 * has a write in progress that filled its buffer, and resume on 'drain' — so data is handed
 * to the socket only when it can take it, without piling up (and being copied) in its queue.
 * Control frames are gathered and written together once per event-loop turn, always
 * before any later data frame, so a SYN or FIN keeps its place. Small data frames of one
 * turn (many streams each sending a request or a response) leave a few at a time: one TLS
 * record and one system call for several frames, without holding the peer back for a whole turn.
 */
export class SendScheduler {
  readonly #transport: Duplex;
  #ready: Sendable[] = [];
  #head = 0;
  #flushing = false;
  #blocked = false;
  #stopped = false;
  #control: FrameHeader[] = [];
  #controlTimer: NodeJS.Immediate | undefined;
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #batchTimer: NodeJS.Immediate | undefined;

  constructor(transport: Duplex) {
    this.#transport = transport;
    transport.on('drain', this.#onDrain);
  }

  /** True while senders wait for the transport to drain. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /**
   * True when a stream queued now is sent at once: not flushing, blocked or stopped, so nothing
   * waits ahead of it. A payload of up to {@link COPY_LIMIT} within its window is then copied
   * into the outgoing batch before `wantSend` returns.
   */
  get sendsNow(): boolean {
    return !this.#flushing && !this.#blocked && !this.#stopped;
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

  /** Queues a control frame (window update, ping, go-away) for this event-loop turn. */
  writeControl(header: FrameHeader): void {
    if (this.#stopped) return;
    this.#control.push(header);
    this.#controlTimer ??= setImmediate(this.#flushControl);
  }

  /** Writes pending control frames and a last frame (if any), then stops sending for good. */
  stop(finalFrame?: FrameHeader): void {
    if (finalFrame !== undefined) this.writeControl(finalFrame);
    this.#flushControl();
    this.#flushBatch();
    this.#stopped = true;
    this.#ready = [];
    this.#head = 0;
    this.#transport.off('drain', this.#onDrain);
  }

  /** Encodes the pending control frames into `out` from offset 0; returns the bytes written. */
  #takeControl(out: Buffer): number {
    let at = 0;
    for (const header of this.#control) {
      encodeHeader(header, at === 0 ? out : out.subarray(at));
      at += HEADER_SIZE;
    }
    this.#control = [];
    return at;
  }

  readonly #flushControl = (): void => {
    if (this.#controlTimer !== undefined) clearImmediate(this.#controlTimer);
    this.#controlTimer = undefined;
    if (this.#control.length === 0 || this.#stopped) return;
    const out = Buffer.allocUnsafe(this.#control.length * HEADER_SIZE);
    this.#takeControl(out);
    this.#batch.push(out);
    this.#flushBatch();
  };

  /** Writes the small frames gathered so far, in order, as one buffer. */
  readonly #flushBatch = (): void => {
    if (this.#batchTimer !== undefined) clearImmediate(this.#batchTimer);
    this.#batchTimer = undefined;
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    this.#batchBytes = 0;
    if (this.#transport.destroyed) return;
    this.#transport.write(batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch));
    if (this.#transport.writableNeedDrain && this.#transport.writableLength > 0)
      this.#blocked = true;
  };

  readonly #onDrain = (): void => {
    this.#blocked = false;
    if (!this.#flushing) this.#flush();
  };

  #writeData(streamId: number, payload: Buffer, flags: number): void {
    const t = this.#transport;
    const header: FrameHeader = {
      type: FrameType.Data,
      flags,
      streamId,
      length: payload.length,
    };
    if (payload.length > COPY_LIMIT) {
      if (this.#control.length > 0) this.#flushControl();
      this.#flushBatch();
      t.write(encodeHeader(header));
      t.write(payload);
      return;
    }
    const out = Buffer.allocUnsafe(
      this.#control.length * HEADER_SIZE + HEADER_SIZE + payload.length,
    );
    const at = this.#takeControl(out);
    encodeHeader(header, out.subarray(at));
    payload.copy(out, at + HEADER_SIZE);
    this.#batch.push(out);
    this.#batchBytes += out.length;
    if (this.#batchBytes >= BATCH_LIMIT || this.#batch.length >= BATCH_FRAMES) this.#flushBatch();
    else this.#batchTimer ??= setImmediate(this.#flushBatch);
  }

  #flush(): void {
    this.#flushing = true;
    const t = this.#transport;
    while (!this.#blocked && !this.#stopped && this.#head < this.#ready.length) {
      const stream = this.#ready[this.#head] as Sendable;
      this.#head += 1;
      stream.queued = false;
      if (!stream.wantsSend()) continue;
      const payload = stream.takePayload(MAX_DATA_FRAME);
      this.#writeData(stream.id, payload, stream.takeFlags());
      // A write that completed at once leaves nothing queued: keep going. Otherwise wait
      // for 'drain' once the socket's buffer is full.
      if (t.writableNeedDrain && t.writableLength > 0) this.#blocked = true;
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
