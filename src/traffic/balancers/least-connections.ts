import { allowed, type Balancer, type BalancerNode } from './balancer.js';

/**
 * Least connections: the node with the fewest sessions in progress. A node in slow start counts
 * as `(active + 1) / ramp` (HAProxy's leastconn over the effective weight), so it takes its
 * share of held sessions gradually. The scan starts one place further each pick, so nodes that
 * tie take turns instead of the first one taking them all.
 */
export class LeastConnectionsBalancer<
  N extends BalancerNode = BalancerNode,
> implements Balancer<N> {
  readonly algorithm = 'least_connections';
  #start = 0;

  pick(nodes: readonly N[], exclude?: ReadonlySet<string>): N | undefined {
    const count = nodes.length;
    let best: N | undefined;
    let bestIndex = 0;
    let bestScore = Infinity;
    for (let step = 0; step < count; step++) {
      const index = (this.#start + step) % count;
      const node = nodes[index]!;
      if (!allowed(node, exclude)) continue;
      // With every ramp at 1 this orders exactly as `active` does.
      const score = (node.active + 1) / (node.ramp ?? 1);
      if (best === undefined || score < bestScore) {
        best = node;
        bestIndex = index;
        bestScore = score;
      }
    }
    if (best !== undefined) this.#start = (bestIndex + 1) % count;
    return best;
  }
}
