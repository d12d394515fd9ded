import type { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { encodeDataHeader } from '../protocol/index.js';

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

  /** Writes a small control frame immediately, ahead of queued data. */
  writeControl(frame: Buffer): void {
    if (!this.#stopped) this.#transport.write(frame);
  }

  /** Writes a last frame (if any) and stops sending for good. */
  stop(finalFrame?: Buffer): void {
    if (finalFrame !== undefined) this.writeControl(finalFrame);
    this.#stopped = true;
    this.#ready = [];
    this.#head = 0;
    this.#transport.off('drain', this.#onDrain);
  }

  readonly #onDrain = (): void => {
    this.#blocked = false;
    if (!this.#flushing) this.#flush();
  };

  #flush(): void {
    this.#flushing = true;
    const t = this.#transport;
    while (!this.#blocked && !this.#stopped && this.#head < this.#ready.length) {
      const stream = this.#ready[this.#head] as Sendable;
      this.#head += 1;
      stream.queued = false;
      if (!stream.wantsSend()) continue;
      const payload = stream.takePayload(MAX_DATA_FRAME);
      t.cork();
      t.write(encodeDataHeader(stream.id, { length: payload.length }));
      t.write(payload);
      t.uncork();
      if (t.writableLength >= this.#budget) this.#blocked = true;
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
