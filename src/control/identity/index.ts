export type { UserIdentity } from './user-identity.js';
export { UserTokenAuthority, CLI_AUDIENCE } from './user-token.js';
export type { UserTokenAuthorityOptions, VerifiedToken } from './user-token.js';
export { identityErrors } from './errors.js';
