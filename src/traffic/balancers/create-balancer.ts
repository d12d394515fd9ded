import type { Balancer, BalancerNode, RandomSource } from './balancer.js';
import { FastestResponseTimeBalancer } from './fastest-response-time.js';
import { LeastConnectionsBalancer } from './least-connections.js';
import { RandomBalancer } from './random.js';
import { RoundRobinBalancer } from './round-robin.js';
import { WeightedLeastConnectionsBalancer } from './weighted-least-connections.js';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

/** The algorithm names a pool's configuration may use. */
export type BalancerAlgorithm =
  | 'round_robin'
  | 'weighted_round_robin'
  | 'least_connections'
  | 'weighted_least_connections'
  | 'random'
  | 'fastest_response_time';

/** Builds the balancer for an algorithm name; `random` (default Math.random) feeds `random`. */
export function createBalancer<N extends BalancerNode>(
  algorithm: BalancerAlgorithm,
  options: { random?: RandomSource } = {},
): Balancer<N> {
  switch (algorithm) {
    case 'round_robin':
      return new RoundRobinBalancer<N>();
    case 'weighted_round_robin':
      return new WeightedRoundRobinBalancer<N>();
    case 'least_connections':
      return new LeastConnectionsBalancer<N>();
    case 'weighted_least_connections':
      return new WeightedLeastConnectionsBalancer<N>();
    case 'random':
      return new RandomBalancer<N>(options);
    case 'fastest_response_time':
      return new FastestResponseTimeBalancer<N>();
  }
}
