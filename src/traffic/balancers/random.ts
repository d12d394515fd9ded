import { allowed, type Balancer, type BalancerNode, type RandomSource } from './balancer.js';

/** Draws before falling back to an exact scan, when many nodes are excluded. */
const DRAWS = 8;

/**
 * Random node: uniform over the allowed nodes, regardless of weight (a node in slow start in
 * proportion to its ramp); O(1) without exclusions.
 */
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
    // Rejection sampling stays uniform over the allowed nodes (a node in slow start is kept
    // with probability `ramp`); the scan below is the exact fallback when most are excluded.
    for (let draw = 0; draw < DRAWS; draw++) {
      const node = nodes[Math.floor(this.#random() * count)]!;
      if (!allowed(node, exclude)) continue;
      const ramp = node.ramp ?? 1;
      if (ramp >= 1 || this.#random() < ramp) return node;
    }
    let left = 0;
    for (const node of nodes) if (allowed(node, exclude)) left += node.ramp ?? 1;
    if (left === 0) return undefined;
    let target = this.#random() * left;
    let last: N | undefined;
    for (const node of nodes) {
      if (!allowed(node, exclude)) continue;
      last = node;
      target -= node.ramp ?? 1;
      if (target < 0) return node;
    }
    return last;
  }
}
