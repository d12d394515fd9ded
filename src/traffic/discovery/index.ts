export type { DnsDiscoveryConfigInput, DnsDiscoverySpec } from './dns-discovery-spec.js';
export { dnsDiscoverySpecFromConfig, dnsDiscoveryDefaults } from './dns-discovery-spec.js';
export type { Resolution } from './resolve-nodes.js';
export { resolveNodes, nodeAddress } from './resolve-nodes.js';
export { DnsDiscovery } from './dns-discovery.js';
export type { DnsDiscoveryOptions, DiscoveryStatus } from './dns-discovery.js';
