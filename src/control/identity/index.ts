export type { UserIdentity } from './user-identity.js';
export { UserTokenAuthority, CLI_AUDIENCE } from './user-token.js';
export type { UserTokenAuthorityOptions, VerifiedToken } from './user-token.js';
export { identityErrors } from './errors.js';
export { BrowserAccess } from './browser-access.js';
export type { BrowserAccessOptions } from './browser-access.js';
export { AuthPages, AUTH_PATHS } from './auth-pages.js';
export type { AuthPagesOptions, AuthRequest, DeviceStores } from './auth-pages.js';
export type { AuthResponse } from './auth-html.js';
export type { AccessDecisionEntry } from './access-gate.js';
export { IDENTITY_HEADERS } from './access-gate.js';
export { MemorySessionStore } from './session-store.js';
export { SqlSessionStore, SESSION_END_TOPIC_PREFIX } from './sql-session-store.js';
export type { SqlSessionStoreOptions } from './sql-session-store.js';
export type { SessionStore, BrowserSession, PendingLogin } from './session-store.js';
export { OidcClient } from './oidc-client.js';
export { AdminSignIn, ADMIN_AUDIENCE, ADMIN_SIGN_IN_PATHS } from './admin-sign-in.js';
export { adminSignInUnavailablePage } from './admin-sign-in.js';
export type { AdminSignInOptions, AdminUser } from './admin-sign-in.js';
export {
  parseAdminRoleMapping,
  adminRoleFor,
  describeAdminRoleMapping,
} from './admin-role-mapping.js';
export type { AdminRoleMapping } from './admin-role-mapping.js';
export { AttemptLimiter } from './attempt-limiter.js';
export type { AttemptLimiterOptions } from './attempt-limiter.js';
export {
  UserRevocations,
  readRevocation,
  revokeUser,
  USER_REVOKED_TOPIC_PREFIX,
} from './user-revocations.js';
export type {
  RevocationStores,
  UserRef,
  UserRevocation,
  UserRevocationsOptions,
} from './user-revocations.js';
