import { allowed, type Balancer, type BalancerNode, type RandomSource } from './balancer.js';

/** Draws before falling back to an exact scan, when many nodes are excluded. */
const DRAWS = 8;

/** Random node: uniform over the allowed nodes, regardless of weight; O(1) without exclusions. */
export class RandomBalancer<N extends BalancerNode = BalancerNode> implements Balancer<N> {
  readonly algorithm = 'random';
  readonly #random: RandomSource;

  /** `random` defaults to Math.random; tests pass a seeded source. */
  constructor(options: { random?: RandomSource } = {}) {
    this.#random = options.random ?? Math.random;
  }

  pick(nodes: readonly N[], exclude?: ReadonlySet<string>): N | undefined {
    const count = nodes.length;
    if (count === 0) return undefined;
    // Rejection sampling stays uniform over the allowed nodes; the scan below is the exact
    // fallback when most nodes are excluded.
    for (let draw = 0; draw < DRAWS; draw++) {
      const node = nodes[Math.floor(this.#random() * count)]!;
      if (allowed(node, exclude)) return node;
    }
    let left = 0;
    for (const node of nodes) if (allowed(node, exclude)) left++;
    if (left === 0) return undefined;
    let target = Math.floor(this.#random() * left);
    for (const node of nodes) {
      if (!allowed(node, exclude)) continue;
      if (target === 0) return node;
      target--;
    }
    return undefined;
  }
}
