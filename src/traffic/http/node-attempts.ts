import { isPosternError } from '../../core/index.js';
import { NodeFailures, type FailedNodes } from '../node-failures.js';
import type { UpstreamPick, UpstreamPickOptions, UpstreamPool } from './upstream-pool.js';

/** What the client hears when the pool has no node left to try. */
export interface NoNodeLeft {
  readonly status: number;
  readonly error: unknown;
  /**
   * Set when every node was at its connection limit and the pool has a queue: the caller may
   * wait for a node with {@link NodeAttempts.wait} instead of answering `error`.
   */
  readonly queue?: QueueingPool | undefined;
}

/** A pool whose picks may wait for a node below its connection limit (Pool does). */
export interface QueueingPool extends UpstreamPool {
  /** How long a pick may wait; 0 = the pool has no queue. */
  readonly queueTimeoutMs: number;
  /** Resolves with a pick once a node has room; rejects with the reason the wait ended. */
  waitForSlot(
    options: UpstreamPickOptions,
    wait: { readonly signal?: AbortSignal | undefined },
  ): Promise<UpstreamPick>;
}

function queueOf(pool: UpstreamPool, err: unknown): QueueingPool | undefined {
  if (!isPosternError(err, 'POSTERN_ERR_POOL_FULL')) return undefined;
  const q = pool as Partial<QueueingPool>;
  return (q.queueTimeoutMs ?? 0) > 0 && q.waitForSlot !== undefined
    ? (pool as QueueingPool)
    : undefined;
}

/**
 * The nodes one request was sent to, in order: which to skip on a retry, how many were tried,
 * and what the client is told when they failed. When every node tried failed, the answer and
 * the request record name each one, not only the last.
 */
export class NodeAttempts {
  #exclude: Set<string> | undefined;
  #count = 0;
  #node: string | undefined;
  #last: unknown;
  #failures: NodeFailures | undefined;
  #record: FailedNodes | undefined;

  /** Nodes picked so far. */
  get count(): number {
    return this.#count;
  }

  /** The node picked last. */
  get node(): string | undefined {
    return this.#node;
  }

  /** The nodes that failed, for the request record; set once an answer named them. */
  get record(): FailedNodes | undefined {
    return this.#record;
  }

  /**
   * Picks a node of `pool`, never one left out by {@link excludeCurrent}. When none is left, the
   * answer for the client: after failed attempts it learns why they failed (502, or 504 for a
   * dial timeout) rather than that none is left; before any, the pool's reason with 503.
   */
  pick(pool: UpstreamPool, options: UpstreamPickOptions): UpstreamPick | NoNodeLeft {
    let pick: UpstreamPick;
    try {
      pick = pool.pick(this.#exclude ? { ...options, exclude: this.#exclude } : options);
    } catch (err) {
      const queue = queueOf(pool, err);
      return queue === undefined ? this.#noneLeft(err) : { status: 503, error: err, queue };
    }
    return this.#adopt(pick);
  }

  /**
   * Waits in the queue of `pool` (a NoNodeLeft's `queue`) for a node below its limit; the pick,
   * or the answer for the client when the wait ends otherwise (timeout, queue full, `signal`).
   */
  async wait(
    pool: QueueingPool,
    options: UpstreamPickOptions,
    signal: AbortSignal,
  ): Promise<UpstreamPick | NoNodeLeft> {
    const exclude = this.#exclude;
    try {
      const pick = await pool.waitForSlot(exclude ? { ...options, exclude } : options, { signal });
      return this.#adopt(pick);
    } catch (err) {
      return this.#noneLeft(err);
    }
  }

  #adopt(pick: UpstreamPick): UpstreamPick {
    this.#count++;
    this.#node = pick.node.address;
    return pick;
  }

  /** After failed attempts the client learns why they failed rather than that none is left. */
  #noneLeft(err: unknown): NoNodeLeft {
    const last = this.#last;
    return last === undefined
      ? { status: 503, error: err }
      : { status: upstreamErrorStatus(last), error: last };
  }

  /** The node picked last is not picked again for this request. */
  excludeCurrent(): void {
    if (this.#node !== undefined) (this.#exclude ??= new Set()).add(this.#node);
  }

  /** Remembers that the node picked last failed with `err` before any response reached the client. */
  failed(err: unknown): void {
    this.#last = err;
    (this.#failures ??= new NodeFailures()).add(this.#node ?? '', err);
  }

  /** The error to answer with: `err`, or after failed nodes one naming each (pool `pool`). */
  answer(err: unknown, pool: string | undefined): unknown {
    const failures = this.#failures;
    if (failures === undefined || pool === undefined) return err;
    this.#record = failures.toRecord();
    return failures.report(pool, err);
  }
}

/**
 * The status for a node that could not be reached: 504 for a dial timeout, 503 when no connector
 * of a `via` pool's group is there to carry the request (the service is unavailable for now, as
 * for a pool with every node down), else 502.
 */
export function upstreamErrorStatus(err: unknown): number {
  if (isPosternError(err, 'POSTERN_ERR_DIAL_TIMEOUT')) return 504;
  return isPosternError(err, 'POSTERN_ERR_NO_CONNECTOR') ? 503 : 502;
}
