import { balancerConformance } from './balancer-conformance.js';
import { FastestResponseTimeBalancer } from './fastest-response-time.js';
import { LeastConnectionsBalancer } from './least-connections.js';
import { RandomBalancer } from './random.js';
import { RoundRobinBalancer } from './round-robin.js';
import { WeightedLeastConnectionsBalancer } from './weighted-least-connections.js';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

balancerConformance('round robin', () => new RoundRobinBalancer(), { honoursWeight: false });
balancerConformance('weighted round robin', () => new WeightedRoundRobinBalancer(), {
  honoursWeight: true,
});
balancerConformance('least connections', () => new LeastConnectionsBalancer(), {
  honoursWeight: false,
});
balancerConformance('weighted least connections', () => new WeightedLeastConnectionsBalancer(), {
  honoursWeight: true,
});
balancerConformance('random', (o) => new RandomBalancer(o), { honoursWeight: false });
balancerConformance('fastest response time', () => new FastestResponseTimeBalancer(), {
  honoursWeight: false,
});
