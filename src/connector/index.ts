export { Connector } from './connector.js';
export type { ConnectorOptions } from './connector.js';
export { connectorErrors } from './errors.js';
export { TargetPolicy } from './target-policy.js';
export { IdentityStore } from './identity-store.js';
export type { ConnectorIdentityFiles } from './identity-store.js';
