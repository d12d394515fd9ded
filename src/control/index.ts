export type {
  EnrollmentAuthority,
  EnrollRequest,
  EnrollResult,
  ConnectorStatusUpdate,
} from './enrollment-authority.js';
export { EnrollmentService } from './enrollment-service.js';
export type { EnrollmentServiceOptions } from './enrollment-service.js';
export { controlErrors } from './errors.js';
export { buildAdminApi } from './admin-api.js';
export type { AdminApiOptions, RuntimeView, VirtualServerStatus } from './admin-api.js';
export { createProvisioningKey } from './provisioning-keys.js';
export { ConnectorAutoDelete } from './connector-auto-delete.js';
export type { AutoDeleteOptions } from './connector-auto-delete.js';
export { AuditLog, redactSecrets } from './audit.js';
export type { AuditHook } from './audit.js';
export { createAdminToken } from './admin-tokens.js';
export type { Principal } from './admin-auth.js';
export { requiredRole, roleAllows } from './admin-roles.js';
export { orderAccessPolicies, POLICY_ORDER_KIND } from './access-policy-order.js';
export { paginate, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './pagination.js';
export type { Page } from './pagination.js';
export { etagOf } from './etag.js';
export { syncDocumentGroups, documentOwner } from './document-import.js';
export {
  API_COLLECTIONS,
  apiPathOf,
  collectionOfKind,
  type ApiCollection,
} from './api-collections.js';
export { ConfigImporter, certificateProblems, listenProblem } from './importer/index.js';
export type { ImportStatus, ImportInfo } from './importer/index.js';
export * from './policy/index.js';
export * from './log-streaming/index.js';
export * from './identity/index.js';
export type {
  AccessDiscoveredApplication,
  KubernetesDiscoveredApplication,
  DiscoveredApplication,
  DiscoveredApplications,
  DiscoveryProblem,
} from './discovered-applications-route.js';
export * from './activity/index.js';
export { applicationHealthViewSchema, promoteDiscoveredSchema } from './application-health-view.js';
export type { ApplicationHealthView } from './application-health-view.js';
export { poolStatusView, poolStatusViewSchema } from './pool-status-view.js';
export type { PoolStatusView } from './pool-status-view.js';
