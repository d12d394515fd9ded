export type { HealthState, HealthThresholds, MonitorState } from './health-state.js';
export { initialMonitorState, recordCheck, combineHealth } from './health-state.js';
export type { StatusMatcher } from './status-matcher.js';
export { parseStatusSpec } from './status-matcher.js';
export type { MonitorConfigInput, MonitorSpec } from './monitor-spec.js';
export { monitorSpecFromConfig, monitorDefaults } from './monitor-spec.js';
export type { ProbeResult, ProbeContext } from './probe.js';
export { runProbe } from './probe.js';
export { HealthChecker } from './health-checker.js';
export type { HealthCheckerOptions } from './health-checker.js';
export type { PassiveHealthConfigInput, PassiveHealthOptions } from './passive-health.js';
export {
  passiveHealthDefaults,
  passiveHealthFromConfig,
  countsAsFailure,
} from './passive-health.js';
export type { PublicPoolTls } from './probe-tls.js';
export { probeTls, monitorRunsOnEdge, publicPoolTls, poolTlsFromPublic } from './probe-tls.js';
