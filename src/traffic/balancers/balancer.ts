/** A node as a balancer sees it: live figures are read at pick time, never copied. */
export interface BalancerNode {
  readonly address: string;
  /** Relative share for weighted algorithms, at least 1. */
  readonly weight: number;
  /** Sessions in progress on the node (picked and not yet done). */
  readonly active: number;
  /** Moving average of response times in ms; undefined until the node has answered once. */
  readonly responseMs: number | undefined;
  /**
   * Slow start: the part of its full share the node may take now, in (0, 1]; absent means 1.
   * Weighted algorithms scale the weight by it, the others the node's share or score.
   */
  readonly ramp?: number | undefined;
}

/**
 * Chooses the node for a new session; every algorithm implements this one interface and passes
 * the shared conformance suite (balancer-conformance.ts).
 *
 * `nodes` are the nodes that may take sessions, in a stable order. Callers pass the same array
 * object for as long as the set is unchanged, so a balancer may keep per-position state keyed by
 * the array's identity. `exclude` holds addresses that must not be picked (nodes that already
 * failed the request). Returns undefined when no node is left.
 */
export interface Balancer<N extends BalancerNode = BalancerNode> {
  /** The configuration name of the algorithm. */
  readonly algorithm: string;
  pick(nodes: readonly N[], exclude?: ReadonlySet<string>): N | undefined;
}

/** A source of uniform numbers in [0, 1); injected so tests can seed it. */
export type RandomSource = () => number;

/** True when `node` may be picked: not in `exclude`. */
export function allowed(node: BalancerNode, exclude: ReadonlySet<string> | undefined): boolean {
  return exclude === undefined || exclude.size === 0 || !exclude.has(node.address);
}
