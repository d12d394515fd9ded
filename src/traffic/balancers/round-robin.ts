import { allowed, type Balancer, type BalancerNode } from './balancer.js';

/** Round robin: each node in turn, regardless of weight; O(1) per pick without exclusions. */
export class RoundRobinBalancer<N extends BalancerNode = BalancerNode> implements Balancer<N> {
  readonly algorithm = 'round_robin';
  #next = 0;

  pick(nodes: readonly N[], exclude?: ReadonlySet<string>): N | undefined {
    const count = nodes.length;
    for (let step = 0; step < count; step++) {
      const index = (this.#next + step) % count;
      const node = nodes[index]!;
      if (!allowed(node, exclude)) continue;
      this.#next = (index + 1) % count;
      return node;
    }
    return undefined;
  }
}
