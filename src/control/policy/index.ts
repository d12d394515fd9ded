export { ApplicationMatcher } from './application-matcher.js';
export { PolicyEngine } from './policy-engine.js';
export type { AccessDecision } from './policy-engine.js';
export type { AccessRequest, AccessRule, AccessUser } from './compiled-rule.js';
export { policyErrors } from './errors.js';
export type { IpAddress, IpNetwork } from './ip-address.js';
export { parseIpAddress, parseCidr, networkContains } from './ip-address.js';
