/** A node of a pool as a balancer sees it. */
export interface BalancerNode {
  readonly address: string;
  readonly weight: number;
}

/** Chooses the next node for a new session; every algorithm implements this one interface. */
export interface Balancer<N extends BalancerNode = BalancerNode> {
  /** Picks one of `nodes` (never empty), or undefined when none may be used. */
  pick(nodes: readonly N[]): N | undefined;
}

/** Round robin: each node in turn, regardless of weight. */
export class RoundRobinBalancer<N extends BalancerNode = BalancerNode> implements Balancer<N> {
  #next = 0;

  pick(nodes: readonly N[]): N | undefined {
    if (nodes.length === 0) return undefined;
    const node = nodes[this.#next % nodes.length];
    this.#next = (this.#next + 1) % Number.MAX_SAFE_INTEGER;
    return node;
  }
}
