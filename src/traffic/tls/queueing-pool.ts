import { isPosternError } from '../../core/index.js';
import type { UpstreamPick, UpstreamPickOptions, UpstreamPool } from '../http/upstream-pool.js';

/** A pool whose picks may wait for a node below its connection limit (Pool is one). */
export interface QueueingPool extends UpstreamPool {
  /** How long a pick may wait; 0 = the pool has no queue. */
  readonly queueTimeoutMs: number;
  /** A queued client's FIN leaves the queue (HAProxy's abortonclose); absent = false. */
  readonly abortOnClose?: boolean | undefined;
  /** Resolves with a pick once a node has room; rejects with the reason the wait ended. */
  waitForSlot(
    options: UpstreamPickOptions,
    wait: { readonly signal?: AbortSignal | undefined },
  ): Promise<UpstreamPick>;
}

/**
 * The pool to wait in when pick() failed with `err` because every node was at its connection
 * limit and the pool has a queue; undefined when the session cannot wait.
 */
export function queueOf(pool: UpstreamPool, err: unknown): QueueingPool | undefined {
  if (!isPosternError(err, 'POSTERN_ERR_POOL_FULL')) return undefined;
  const q = pool as Partial<QueueingPool>;
  return (q.queueTimeoutMs ?? 0) > 0 && typeof q.waitForSlot === 'function'
    ? (pool as QueueingPool)
    : undefined;
}
