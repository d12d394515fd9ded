export { startEdge } from './edge.js';
export type { Edge, EdgeOptions } from './edge.js';
export { ConnectorRegistry } from './connector-registry.js';
export type { ConnectorTunnel } from './connector-registry.js';
