export { Connector } from './connector.js';
export type { ConnectorOptions } from './connector-options.js';
export { connectorErrors } from './errors.js';
export { ConnectorMetrics } from './connector-metrics.js';
export type { ConnectorMetricsSource } from './connector-metrics.js';
export { TargetPolicy } from './target-policy.js';
export { IdentityStore } from './identity-store.js';
export type { ConnectorIdentityFiles } from './identity-store.js';
export {
  KubernetesDiscovery,
  inClusterConnection,
  kubeconfigConnection,
  kubernetesErrors,
  EXPOSE_ANNOTATION,
  startProbeServer,
} from './kubernetes/index.js';
export type { KubernetesDiscoveryOptions, KubeConnection } from './kubernetes/index.js';
export { parseAgentIdentifiers, AGENT_IDENTIFIER_KEYS } from './agent-identifiers.js';
export { identifierGrant } from './identifier-grant.js';
export type { IdentifierGrant } from './identifier-grant.js';
export { ApplicationHealthMonitor, ON_ACCESS_WINDOW_MS } from './application-health.js';
export type { ApplicationHealthOptions, ApplicationHealthReport } from './application-health.js';
