import { CoreErrors } from '../core/index.js';

interface Waiter<T> {
  resolve: (item: T) => void;
  reject: (err: Error) => void;
}

/**
 * The meeting point of peer-opened streams and `accept()` calls: streams nobody asked for yet
 * wait in the backlog (in arrival order), calls that came first wait for the next stream.
 */
export class AcceptQueue<T> {
  readonly #backlog = new Set<T>();
  #waiters: Waiter<T>[] = [];

  /** Streams in the backlog. */
  get size(): number {
    return this.#backlog.size;
  }

  /** `accept()` calls waiting for a stream. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** True when `item` waits in the backlog. */
  has(item: T): boolean {
    return this.#backlog.has(item);
  }

  /** Removes `item` from the backlog; true when it was there. */
  delete(item: T): boolean {
    return this.#backlog.delete(item);
  }

  /** Hands `item` to the oldest waiting call, or puts it in the backlog when none waits. */
  offer(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#backlog.add(item);
    else waiter.resolve(item);
  }

  /** Takes the oldest backlog entry, if any. */
  take(): T | undefined {
    for (const item of this.#backlog) {
      this.#backlog.delete(item);
      return item;
    }
    return undefined;
  }

  /** Waits for the next offered item; rejects with POSTERN_ERR_ABORTED when `signal` fires. */
  wait(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted === true) return Promise.reject(CoreErrors.aborted('accept'));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(CoreErrors.aborted('accept'));
      };
      const waiter: Waiter<T> = {
        resolve: (item) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(item);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Rejects every waiting call with `err`. */
  rejectWaiters(err: Error): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(err);
  }

  /** Empties the backlog. */
  clear(): void {
    this.#backlog.clear();
  }
}
