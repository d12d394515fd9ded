export type { Balancer, BalancerNode, RandomSource } from './balancer.js';
export { RoundRobinBalancer } from './round-robin.js';
export { WeightedRoundRobinBalancer } from './weighted-round-robin.js';
export { LeastConnectionsBalancer } from './least-connections.js';
export { RandomBalancer } from './random.js';
export { FastestResponseTimeBalancer } from './fastest-response-time.js';
export { createBalancer } from './create-balancer.js';
export type { BalancerAlgorithm } from './create-balancer.js';
export { seededRandom } from './seeded-random.js';
