export { ConfigErrors, ConfigProblemsError, FILE_REF_CODE } from './errors.js';
export type { ConfigProblem, PathSegment } from './problems.js';
export { formatPath, formatProblems } from './problems.js';
export type { HostPort } from './host-port.js';
export { parseHostPort, formatHostPort } from './host-port.js';
export type { DeepReadonly } from './deep-freeze.js';
export { deepFreeze } from './deep-freeze.js';
export { issueMessage } from './issue-messages.js';
export {
  objectNameSchema,
  objectIdSchema,
  hostPortSchema,
  cidrSchema,
  timestampSchema,
  headerNameSchema,
  headerValueSchema,
  hostPatternSchema,
  pathPrefixSchema,
} from './fields.js';
export type { ConnectorGroup } from './connector-group.js';
export { connectorGroupSchema } from './connector-group.js';
export type { ProvisioningKey, ProvisioningKeyCreate } from './provisioning-key.js';
export { provisioningKeySchema, provisioningKeyCreateSchema } from './provisioning-key.js';
export type { Pool, PoolNode, BalancingAlgorithm } from './pool.js';
export { poolSchema, poolNodeSchema, balancingAlgorithms, nodeStates } from './pool.js';
export type { DnsDiscovery, PassiveHealth, Persistence, PanicMode } from './pool-options.js';
export {
  discoverySchema,
  dnsDiscoverySchema,
  passiveHealthSchema,
  persistenceSchema,
  discoveryRecordTypes,
  panicModes,
} from './pool-options.js';
export type { VirtualServer, VirtualServerProtocol } from './virtual-server.js';
export { virtualServerSchema, virtualServerProtocols } from './virtual-server.js';
export type { Route, VirtualServerTls, Limits } from './virtual-server-options.js';
export {
  routeSchema,
  virtualServerTlsSchema,
  limitsSchema,
  tlsVersions,
  alpnProtocols,
} from './virtual-server-options.js';
export type { Monitor, MonitorType } from './monitor.js';
export { monitorSchema, monitorTypes } from './monitor.js';
export { expectStatusSchema, statusMatches } from './status-spec.js';
export type { Certificate } from './certificate.js';
export { certificateSchema } from './certificate.js';
export type { Rule, RuleCondition } from './rule.js';
export { ruleSchema } from './rule.js';
export type { TemplatePart, TemplateVariable, ParsedTemplate } from './rule-template.js';
export { parseTemplate, templateVariables } from './rule-template.js';
export type { RequestAction, ResponseAction } from './rule-action.js';
export { requestActionSchema, responseActionSchema, terminalActions } from './rule-action.js';
export type { Application } from './application.js';
export { applicationSchema } from './application.js';
export type { PortRange } from './port-range.js';
export { portRangeSchema, parsePortRange } from './port-range.js';
export type { AccessPolicy, AccessConditions, AccessAction, ClientType } from './access-policy.js';
export { accessPolicySchema, clientTypes, accessActions } from './access-policy.js';
export type { IdentityProvider } from './identity-provider.js';
export { identityProviderSchema } from './identity-provider.js';
export type { BrowserAccess } from './browser-access.js';
export { browserAccessSchema, MIN_SESSION_TIMEOUT_MS } from './browser-access.js';
export type { LogReceiver, LogType } from './log-receiver.js';
export { logReceiverSchema, logTypes, logFormats } from './log-receiver.js';
export type { FileRefReader, ResolvedValues, ValueFromProblem } from './value-from.js';
export { resolveValueFrom, fileRefProblem, normalizeFileRef } from './value-from.js';
export type { Finding } from './finding.js';
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
export type { ParseDocumentOptions, DocumentParse } from './parse-document.js';
export { parseDocument, inspectDocument, inspectDocuments } from './parse-document.js';
export type {
  DeclaredObject,
  DocumentParts,
  DeclaredNames,
  PartialConfiguration,
} from './document-parts.js';
export { mergeDocumentParts } from './document-parts.js';
export type { ObjectSource, SourcePosition } from './object-source.js';
export { sourceOf } from './object-source.js';
export { mergeDocuments } from './merge-documents.js';
export type { ReferenceOptions } from './validate-configuration.js';
export {
  validateConfiguration,
  referenceProblems,
  findingProblem,
  UNKNOWN_SOURCE,
} from './validate-configuration.js';
export { configJsonSchema } from './json-schema.js';
