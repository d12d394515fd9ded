/**
 * Weight of discovered nodes by address. Only SRV answers carry weights; an address without an
 * entry (A/AAAA discovery, a report from an older connector) weighs 1, like a configured node
 * without `weight`.
 */
export type NodeWeights = ReadonlyMap<string, number>;

/** Weight of a discovered node without one. */
export const DEFAULT_DISCOVERED_WEIGHT = 1;

/**
 * The smallest weight a node can have and still be picked: balancers take weights of at least 1
 * (weighted round robin would never pick a node of weight 0, and weighted least connections
 * divides by the weight).
 */
export const MIN_NODE_WEIGHT = 1;

/** Largest SRV weight (a 16-bit field); also the largest weight a `discovered` report carries. */
export const MAX_SRV_WEIGHT = 65_535;

/** No weights: every discovered node weighs 1. */
export const NO_WEIGHTS: NodeWeights = new Map();

/**
 * The node weight for an SRV weight (or the sum of the weights of several records naming the
 * same address). RFC 2782 gives weight 0 "a very small chance of being selected", not none, so
 * 0 maps to MIN_NODE_WEIGHT: next to records of weight 10 or more, a small share. Weights above
 * MAX_SRV_WEIGHT (only possible as a sum) are capped there.
 */
export function srvNodeWeight(srvWeight: number): number {
  return Math.min(MAX_SRV_WEIGHT, Math.max(MIN_NODE_WEIGHT, Math.trunc(srvWeight)));
}

/** The weight of `address` in `weights`; 1 when it has none. */
export function weightOf(weights: NodeWeights | undefined, address: string): number {
  return weights?.get(address) ?? DEFAULT_DISCOVERED_WEIGHT;
}

/** Whether `a` and `b` give each of `addresses` the same weight. */
export function sameWeights(
  addresses: readonly string[],
  a: NodeWeights | undefined,
  b: NodeWeights | undefined,
): boolean {
  return addresses.every((address) => weightOf(a, address) === weightOf(b, address));
}
