import { balancerConformance } from './balancer-conformance.js';
import { FastestResponseTimeBalancer } from './fastest-response-time.js';
import { LeastConnectionsBalancer } from './least-connections.js';
import { RandomBalancer } from './random.js';
import { RoundRobinBalancer } from './round-robin.js';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

balancerConformance('round robin', () => new RoundRobinBalancer(), { honoursWeight: false });
balancerConformance('weighted round robin', () => new WeightedRoundRobinBalancer(), {
  honoursWeight: true,
});
balancerConformance('least connections', () => new LeastConnectionsBalancer(), {
  honoursWeight: false,
});
balancerConformance('random', (o) => new RandomBalancer(o), { honoursWeight: false });
balancerConformance('fastest response time', () => new FastestResponseTimeBalancer(), {
  honoursWeight: false,
});
