export { HttpVirtualServer } from './http-virtual-server.js';
export type {
  AccessGate,
  AccessGateRequest,
  AccessGateResult,
  AccessGateAllow,
  AccessGateRespond,
  AccessGateReason,
} from './access-gate.js';
export type {
  HttpVirtualServerOptions,
  HttpRequestRecord,
  RequestEnd,
  HttpsTlsOptions,
  HttpLimits,
  UpstreamReuseOptions,
  TrafficLogger,
} from './http-options.js';
export type { Route, RouteMatch } from './router.js';
export { Router } from './router.js';
export type {
  HttpRule,
  RuleCondition,
  RequestAction,
  HeaderAction,
  HeaderValue,
} from './rule-types.js';
export { RulesEngine } from './rules-engine.js';
export type {
  UpstreamPool,
  UpstreamPick,
  UpstreamPickOptions,
  UpstreamOutcome,
} from './upstream-pool.js';
export { compileHostPattern, normalizeHost, pathHasPrefix } from './host-pattern.js';
export { httpErrors } from './errors.js';
