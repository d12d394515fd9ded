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
export type { AdminApiOptions, RuntimeView } from './admin-api.js';
export { createProvisioningKey } from './provisioning-keys.js';
export { syncDocumentGroups, documentOwner } from './document-import.js';
export { ConfigImporter, certificateProblems } from './importer/index.js';
export type { ImportStatus, ImportInfo } from './importer/index.js';
export * from './policy/index.js';
export * from './identity/index.js';
