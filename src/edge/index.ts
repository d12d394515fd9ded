export { DEFAULT_DRAIN_TIMEOUT_MS, startEdge } from './edge.js';
export type { Edge } from './edge.js';
export type { EdgeOptions } from './edge-options.js';
export { ConnectorRegistry } from './connector-registry.js';
export type { ConnectorTunnel } from './connector-registry.js';
export { DiscoveredApplicationRegistry } from './discovered-application-registry.js';
export { ApplicationHealthRegistry } from './application-health-registry.js';
export { EdgeMembership, randomServerId } from './edge-membership.js';
export type { EdgeView, EdgeMembershipOptions } from './edge-membership.js';
export { AccessProxy } from './access-proxy.js';
export type { AccessHttpHook, AccessProxyOptions } from './access-proxy.js';
export type { AccessListenOptions } from './access-frontend.js';
export {
  DEFAULT_TOKEN_ISSUER,
  TOKEN_SIGNING_KEY_FILE,
  loadOrCreateTokenSigningKey,
  loadTokenAuthority,
} from './edge-files.js';
export { prepareDataDir } from './data-dir.js';
export { clearStaleSocket } from './konnectivity/index.js';
