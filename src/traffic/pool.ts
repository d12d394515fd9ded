import { RoundRobinBalancer, type Balancer } from './balancer.js';
import { trafficErrors } from './errors.js';

/** A node's administrative state: draining nodes finish sessions but get no new ones. */
export type NodeState = 'active' | 'draining' | 'disabled';

/** One upstream of a pool. */
export interface PoolNode {
  readonly address: string;
  readonly weight: number;
  readonly state: NodeState;
}

/** How to build a pool. */
export interface PoolOptions {
  readonly name: string;
  /** Connector group that reaches the nodes; absent means the edge dials them itself. */
  readonly via?: string | undefined;
  readonly nodes: readonly PoolNode[];
  /** Default: round robin. */
  readonly balancer?: Balancer<PoolNode>;
}

/** A named set of upstream nodes and the algorithm that spreads sessions over them. */
export class Pool {
  readonly name: string;
  readonly via: string | undefined;
  readonly nodes: readonly PoolNode[];
  readonly #balancer: Balancer<PoolNode>;

  constructor(options: PoolOptions) {
    this.name = options.name;
    this.via = options.via;
    this.nodes = options.nodes;
    this.#balancer = options.balancer ?? new RoundRobinBalancer<PoolNode>();
  }

  /** The nodes that may take new sessions, in configuration order. */
  get activeNodes(): PoolNode[] {
    return this.nodes.filter((n) => n.state === 'active');
  }

  /** Picks a node for a new session, skipping `exclude` (nodes that already failed it). */
  pick(exclude: ReadonlySet<string> = new Set()): PoolNode {
    const candidates = this.activeNodes.filter((n) => !exclude.has(n.address));
    const node = this.#balancer.pick(candidates);
    if (!node) throw trafficErrors.poolEmpty(this.name);
    return node;
  }
}
