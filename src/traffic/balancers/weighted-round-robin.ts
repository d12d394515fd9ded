import { allowed, type Balancer, type BalancerNode } from './balancer.js';

/**
 * Smooth weighted round robin as nginx does it: every pick adds each node's weight to its
 * running score, takes the highest score and subtracts the total weight from it. Over any
 * window of `sum(weights)` picks each node gets exactly its share, interleaved rather than in
 * bursts (weights 5,1,1 give a a b a c a a, not a a a a a b c). A node in slow start counts
 * with `weight × ramp`.
 */
export class WeightedRoundRobinBalancer<
  N extends BalancerNode = BalancerNode,
> implements Balancer<N> {
  readonly algorithm = 'weighted_round_robin';
  /** Running scores by position in `#nodes`; rebuilt (keeping scores by address) on a new set. */
  #scores = new Float64Array(0);
  #nodes: readonly N[] = [];

  pick(nodes: readonly N[], exclude?: ReadonlySet<string>): N | undefined {
    if (nodes !== this.#nodes) this.#adopt(nodes);
    const scores = this.#scores;
    let total = 0;
    let best = -1;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      if (!allowed(node, exclude)) continue;
      // The effective weight: a node in slow start counts with part of its weight.
      const weight = node.weight * (node.ramp ?? 1);
      const score = scores[i]! + weight;
      scores[i] = score;
      total += weight;
      if (best < 0 || score > scores[best]!) best = i;
    }
    if (best < 0) return undefined;
    scores[best] = scores[best]! - total;
    return nodes[best];
  }

  /** Carries scores over by address so a changed set does not restart the sequence. */
  #adopt(nodes: readonly N[]): void {
    const previous = new Map<string, number>();
    for (let i = 0; i < this.#nodes.length; i++) {
      previous.set(this.#nodes[i]!.address, this.#scores[i]!);
    }
    this.#scores = new Float64Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) this.#scores[i] = previous.get(nodes[i]!.address) ?? 0;
    this.#nodes = nodes;
  }
}
