import { allowed, type Balancer, type BalancerNode } from './balancer.js';

/**
 * Least connections: the node with the fewest sessions in progress. The scan starts one place
 * further each pick, so nodes that tie take turns instead of the first one taking them all.
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
    for (let step = 0; step < count; step++) {
      const index = (this.#start + step) % count;
      const node = nodes[index]!;
      if (!allowed(node, exclude)) continue;
      if (best === undefined || node.active < best.active) {
        best = node;
        bestIndex = index;
      }
    }
    if (best !== undefined) this.#start = (bestIndex + 1) % count;
    return best;
  }
}
