import { allowed, type Balancer, type BalancerNode } from './balancer.js';

/**
 * Round robin: each node in turn, regardless of weight; O(1) per pick without exclusions. A node
 * in slow start (ramp < 1) is taken on its turn only once its ramp, added up turn by turn, makes
 * a whole pick, so it gets `ramp` of a full node's share.
 */
export class RoundRobinBalancer<N extends BalancerNode = BalancerNode> implements Balancer<N> {
  readonly algorithm = 'round_robin';
  #next = 0;
  /** Ramp added up by nodes in slow start, by address; only such nodes ever have an entry. */
  readonly #credit = new Map<string, number>();

  pick(nodes: readonly N[], exclude?: ReadonlySet<string>): N | undefined {
    const count = nodes.length;
    let skipped = -1;
    for (let step = 0; step < count; step++) {
      const index = (this.#next + step) % count;
      const node = nodes[index]!;
      if (!allowed(node, exclude)) continue;
      const ramp = node.ramp ?? 1;
      if (ramp < 1 && !this.#turn(node.address, ramp, count)) {
        if (skipped < 0) skipped = index;
        continue;
      }
      this.#next = (index + 1) % count;
      return node;
    }
    // Only ramping nodes are left and none has a whole pick yet: the first of them takes it.
    if (skipped < 0) return undefined;
    this.#next = (skipped + 1) % count;
    return nodes[skipped];
  }

  /** Adds `ramp` to the node's credit; true (and one pick's worth spent) when it reaches 1. */
  #turn(address: string, ramp: number, count: number): boolean {
    const credit = (this.#credit.get(address) ?? 0) + ramp;
    // Credits of nodes gone from the set are dropped now and then so churn cannot grow the map.
    if (this.#credit.size > 2 * count + 16) this.#credit.clear();
    if (credit < 1) {
      this.#credit.set(address, credit);
      return false;
    }
    this.#credit.set(address, credit - 1);
    return true;
  }
}
