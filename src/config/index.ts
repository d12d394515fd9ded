export { ConfigErrors, ConfigProblemsError } from './errors.js';
export type { ConfigProblem, PathSegment } from './problems.js';
export { formatPath, formatProblems } from './problems.js';
export type { HostPort } from './host-port.js';
export { parseHostPort, formatHostPort } from './host-port.js';
export type { DeepReadonly } from './deep-freeze.js';
export { deepFreeze } from './deep-freeze.js';
export {
  objectNameSchema,
  objectIdSchema,
  hostPortSchema,
  cidrSchema,
  timestampSchema,
} from './fields.js';
export type { ConnectorGroup } from './connector-group.js';
export { connectorGroupSchema } from './connector-group.js';
export type { ProvisioningKey, ProvisioningKeyCreate } from './provisioning-key.js';
export { provisioningKeySchema, provisioningKeyCreateSchema } from './provisioning-key.js';
export type { Pool, PoolNode, BalancingAlgorithm } from './pool.js';
export { poolSchema, poolNodeSchema, balancingAlgorithms, nodeStates } from './pool.js';
export type { VirtualServer, VirtualServerProtocol } from './virtual-server.js';
export { virtualServerSchema, virtualServerProtocols } from './virtual-server.js';
export type {
  ConfigDocument,
  Configuration,
  CollectionName,
  CollectionObject,
} from './document.js';
export {
  documentSchema,
  collectionSchemas,
  collectionNames,
  DOCUMENT_VERSION,
} from './document.js';
export type { ParseDocumentOptions } from './parse-document.js';
export { parseDocument } from './parse-document.js';
export type { ObjectSource, SourcePosition } from './object-source.js';
export { sourceOf } from './object-source.js';
export { mergeDocuments } from './merge-documents.js';
export { validateConfiguration, UNKNOWN_SOURCE } from './validate-configuration.js';
export { configJsonSchema } from './json-schema.js';
