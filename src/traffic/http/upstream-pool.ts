import type { UpstreamTls } from '../upstream-tls.js';

/**
 * The part of a pool that the L7 and TLS virtual servers use (the issue-4 Pool contract).
 * Declared here structurally so that any pool implementing the contract fits.
 */
export interface UpstreamPool {
  readonly name: string;
  /** Connector group that reaches the nodes; undefined means the edge dials them itself. */
  readonly via: string | undefined;
  /** TLS to the nodes, when the pool asks for it; absent = plain TCP. */
  readonly upstreamTls?: UpstreamTls | undefined;
  /**
   * Picks a node for a new request or session. Throws a PosternError (POSTERN_ERR_POOL_EMPTY,
   * or POSTERN_ERR_POOL_DOWN when every node is down and the pool refuses) when none can be had.
   */
  pick(options?: UpstreamPickOptions): UpstreamPick;
}

/** What a pool may use to choose: nodes to skip and persistence key material. */
export interface UpstreamPickOptions {
  /** Addresses of nodes that already failed this request. */
  readonly exclude?: ReadonlySet<string> | undefined;
  /** Client address, for source-IP persistence. */
  readonly clientIp?: string | undefined;
  /** The request's raw `Cookie` header, for cookie persistence (the pool knows its cookie name). */
  readonly cookie?: string | undefined;
  /** The request came over TLS: a persistence cookie set for it is `Secure`. */
  readonly secure?: boolean | undefined;
  /** The pick is for one HTTP request (the pool counts it by outcome), not a session. */
  readonly request?: boolean | undefined;
}

/** The outcome reported once per pick. */
export interface UpstreamOutcome {
  readonly ok: boolean;
  readonly kind?: 'connect' | 'reset' | 'timeout' | 'status_5xx';
  /** Time from sending the request to the start of the response. */
  readonly responseMs?: number;
  /** Shown as the node's last error in status. */
  readonly error?: string;
  /** The status the node answered, for the pool's per-node request counts. */
  readonly status?: number;
}

/** A picked node; `done` must be called exactly once. */
export interface UpstreamPick {
  readonly node: { readonly address: string };
  /** A `Set-Cookie` value to add to the response (cookie persistence). */
  readonly setCookie?: string;
  done(outcome: UpstreamOutcome): void;
}
