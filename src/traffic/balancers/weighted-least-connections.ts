import { allowed, type Balancer, type BalancerNode } from './balancer.js';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

/**
 * Weighted least connections (vTM's `weighted_least_connections`, HAProxy's leastconn): the node
 * with the fewest sessions in progress relative to its effective weight (`weight × ramp`, as
 * weighted round robin counts it), scored as `(active + 1) / (weight × ramp)`, so held sessions
 * spread in proportion to weight and a node in slow start takes its share gradually. The scan
 * starts one place further each pick, so nodes that tie take turns instead of the first one
 * taking them all.
 *
 * When no allowed node has a session in progress the score says nothing about load, only about
 * weight, and would send every session to the heaviest node as long as sessions end before the
 * next one starts (HAProxy's leastconn does). Those picks go in turn by weight (smooth weighted
 * round robin) instead, so short sessions are shared by weight too.
 */
export class WeightedLeastConnectionsBalancer<
  N extends BalancerNode = BalancerNode,
> implements Balancer<N> {
  readonly algorithm = 'weighted_least_connections';
  #start = 0;
  readonly #whenIdle = new WeightedRoundRobinBalancer<N>();

  pick(nodes: readonly N[], exclude?: ReadonlySet<string>): N | undefined {
    const count = nodes.length;
    let best: N | undefined;
    let bestIndex = 0;
    let bestScore = Infinity;
    let busy = false;
    for (let step = 0; step < count; step++) {
      const index = (this.#start + step) % count;
      const node = nodes[index]!;
      if (!allowed(node, exclude)) continue;
      if (node.active > 0) busy = true;
      const score = (node.active + 1) / (node.weight * (node.ramp ?? 1));
      if (best === undefined || score < bestScore) {
        best = node;
        bestIndex = index;
        bestScore = score;
      }
    }
    if (best === undefined) return undefined;
    if (!busy) return this.#whenIdle.pick(nodes, exclude);
    this.#start = (bestIndex + 1) % count;
    return best;
  }
}
