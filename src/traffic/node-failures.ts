import { isPosternError } from '../core/index.js';
import { trafficErrors } from './errors.js';

/** Nodes named one by one in a failure report; the rest are counted ("and N more"). */
export const MAX_LISTED_NODE_FAILURES = 8;

/** One node tried for a session or request, and the code of what went wrong with it. */
export interface NodeFailure {
  readonly node: string;
  readonly error: string;
}

/** The nodes that failed one session or request, as session and request records carry them. */
export interface FailedNodes {
  /** The first nodes tried (at most MAX_LISTED_NODE_FAILURES), in the order they were tried. */
  readonly nodes: readonly NodeFailure[];
  /** Nodes tried and failed beyond those listed. */
  readonly more: number;
}

// Fixed phrases, never the underlying message: a connector's detail stays in the edge's log of
// that dial, and the summary a client reads stays short and free of anything but addresses.
const PHRASES: Readonly<Record<string, string>> = {
  POSTERN_ERR_DIAL_REFUSED: 'refused the connection',
  POSTERN_ERR_DIAL_TIMEOUT: 'did not accept the connection in time',
  POSTERN_ERR_DIAL_UNREACHABLE: 'was unreachable',
  POSTERN_ERR_DIAL_DNS: 'did not resolve',
  POSTERN_ERR_DIAL_NOT_ALLOWED: 'is not allowed for the connector group',
  POSTERN_ERR_NO_CONNECTOR: 'had no connector to reach it',
  POSTERN_ERR_UPSTREAM_RESET: 'closed the connection before responding',
  POSTERN_ERR_UPSTREAM_TIMEOUT: 'sent nothing in time',
  POSTERN_ERR_UPSTREAM_PROTOCOL: 'sent an invalid response',
};

/**
 * Collects, in order, the nodes that failed one session or request, so that when every node
 * tried fails the answer and the log name each of them, not only the last.
 */
export class NodeFailures {
  readonly #listed: NodeFailure[] = [];
  #total = 0;

  /** Records that `node` failed with `err` (its code is kept, not its message). */
  add(node: string, err: unknown): void {
    this.#total++;
    if (this.#listed.length < MAX_LISTED_NODE_FAILURES) {
      this.#listed.push({ node, error: isPosternError(err) ? err.code : 'POSTERN_ERR_INTERNAL' });
    }
  }

  /** Number of failures recorded, listed or not. */
  get total(): number {
    return this.#total;
  }

  /** The failures as a record field. */
  toRecord(): FailedNodes {
    return { nodes: this.#listed.slice(), more: this.#total - this.#listed.length };
  }

  /**
   * The error to answer and log: `last` itself when at most one node failed (its message names
   * that node already); otherwise an error with `last`'s code whose message names every node
   * tried and what happened to each.
   */
  report(pool: string, last: unknown): unknown {
    if (this.#total < 2 || !isPosternError(last)) return last;
    return trafficErrors.nodesFailed(last.code, pool, this.#total, this.describe(), last);
  }

  /** `a refused the connection (CODE), b …, and N more`. */
  describe(): string {
    const parts = this.#listed.map((f) => `${f.node} ${PHRASES[f.error] ?? 'failed'} (${f.error})`);
    const more = this.#total - this.#listed.length;
    if (more > 0) parts.push(`and ${more} more`);
    return parts.join(', ');
  }
}
