import type { Clock, TimerHandle } from '../core/index.js';
import type { Readable } from 'node:stream';
import type { PoolPick } from './pool-options.js';

/**
 * Tries to take a node slot for a waiter: a pick, or undefined while every node it may use is
 * at its limit. Throws when the pool can no longer serve it at all (every node down or gone).
 */
export type SlotTaker = () => PoolPick | undefined;

/** How one waiter waits: how long, and what ends the wait early. */
export interface SlotWaitOptions {
  /** Ms before the wait fails with `timeoutError()`. */
  readonly timeoutMs: number;
  /** Aborting it leaves the queue; the wait rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  readonly clock: Clock;
  /** The error a timed-out wait rejects with. */
  readonly timeoutError: () => Error;
}

/** The reason an aborted signal gives, as an Error. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}

class Waiter {
  timer: TimerHandle | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

  constructor(
    readonly take: SlotTaker,
    readonly resolve: (pick: PoolPick) => void,
    readonly reject: (err: unknown) => void,
  ) {}
}

/**
 * The FIFO of requests and sessions waiting for a node of a pool to drop below its connection
 * limit (HAProxy's backend queue, vTM's pool queue). It lives in the pool's shared runtime so a
 * slot freed by a pick of an older configuration generation still wakes the waiters. Slots go to
 * the oldest waiter that can use them; a waiter that leaves (abort, timeout) leaves nothing behind.
 */
export class PoolQueue {
  #waiters: Waiter[] = [];
  #draining = false;
  /** Waits that ended in their timeout, for metrics. */
  timeouts = 0;

  /** Waiters in the queue now. */
  get length(): number {
    return this.#waiters.length;
  }

  /** Queues a waiter; the promise settles with its pick, the timeout error, or the abort reason. */
  wait(take: SlotTaker, options: SlotWaitOptions): Promise<PoolPick> {
    return new Promise<PoolPick>((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const waiter = new Waiter(take, resolve, reject);
      waiter.timer = options.clock.setTimeout(() => {
        waiter.timer = undefined;
        if (!this.#leave(waiter, options.clock)) return;
        this.timeouts++;
        reject(options.timeoutError());
      }, options.timeoutMs);
      waiter.timer.unref?.();
      if (signal !== undefined) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          if (this.#leave(waiter, options.clock)) reject(abortError(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /**
   * Hands free slots to waiters, oldest first, while `hasRoom()` says a slot may be free. Called
   * whenever a slot may have freed (a pick's done, a node back in service, a reload). Re-entrant
   * calls (a waiter's pick ending at once) are folded into the running one.
   */
  drain(clock: Clock, hasRoom: () => boolean): void {
    if (this.#draining || this.#waiters.length === 0) return;
    this.#draining = true;
    try {
      for (let i = 0; i < this.#waiters.length && hasRoom();) {
        const waiter = this.#waiters[i] as Waiter;
        let pick: PoolPick | undefined;
        try {
          pick = waiter.take();
        } catch (err) {
          this.#remove(i, waiter, clock);
          waiter.reject(err);
          continue;
        }
        // This waiter cannot use a free slot now (e.g. it excludes the only free node): the
        // next one may, so it is not held up behind it.
        if (pick === undefined) {
          i++;
          continue;
        }
        this.#remove(i, waiter, clock);
        waiter.resolve(pick);
      }
    } finally {
      this.#draining = false;
    }
  }

  #leave(waiter: Waiter, clock: Clock): boolean {
    const i = this.#waiters.indexOf(waiter);
    if (i < 0) return false;
    this.#remove(i, waiter, clock);
    return true;
  }

  #remove(i: number, waiter: Waiter, clock: Clock): void {
    this.#waiters.splice(i, 1);
    if (waiter.timer !== undefined) clock.clearTimeout(waiter.timer);
    waiter.timer = undefined;
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }
}

/** Bytes a client may send while it waits in a queue before it is no longer read. */
export const QUEUED_CLIENT_BYTES_MAX = 64 * 1024;

/**
 * Reads `client` while it waits in a pool queue, so a client that leaves (a FIN or a reset) is
 * noticed at once and `onEnd` runs on its FIN: a socket not read reports neither. The bytes it
 * sends meanwhile are kept for the node, up to `maxBytes`; past that it is paused (and a
 * departure is then noticed only when it gets its node). The returned function stops reading,
 * pauses the client and gives the bytes kept. A FIN read here has emitted the client's only
 * 'end' (`readableEnded`): whoever joins it to a node passes the FIN on itself.
 */
export function readWhileQueued(
  client: Readable,
  onEnd: () => void,
  maxBytes = QUEUED_CLIENT_BYTES_MAX,
): () => Buffer[] {
  const kept: Buffer[] = [];
  let bytes = 0;
  const onData = (chunk: Buffer): void => {
    kept.push(chunk);
    bytes += chunk.length;
    if (bytes >= maxBytes) client.pause();
  };
  client.on('data', onData);
  client.once('end', onEnd);
  client.resume();
  return () => {
    client.off('data', onData);
    client.off('end', onEnd);
    client.pause();
    return kept;
  };
}
