export type { DnsDiscoveryConfigInput, DnsDiscoverySpec } from './dns-discovery-spec.js';
export { dnsDiscoverySpecFromConfig, dnsDiscoveryDefaults } from './dns-discovery-spec.js';
export type { Resolution } from './resolve-nodes.js';
export { resolveNodes, nodeAddress } from './resolve-nodes.js';
export { DnsDiscovery } from './dns-discovery.js';
export type { DnsDiscoveryOptions, DiscoveryStatus } from './dns-discovery.js';
export type { NodeWeights } from './node-weights.js';
export {
  DEFAULT_DISCOVERED_WEIGHT,
  MAX_SRV_WEIGHT,
  MIN_NODE_WEIGHT,
  NO_WEIGHTS,
  srvNodeWeight,
  weightOf,
  sameWeights,
} from './node-weights.js';
