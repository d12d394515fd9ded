import { trafficErrors } from '../errors.js';
import { parseStatusSpec, type StatusMatcher } from './status-matcher.js';

/** A monitor as configuration documents write it (see the issue-4 design); defaults applied here. */
export interface MonitorConfigInput {
  readonly name: string;
  readonly type: 'tcp' | 'http' | 'https';
  readonly path?: string | undefined;
  readonly host_header?: string | undefined;
  readonly expect_status?: string | readonly string[] | undefined;
  readonly body_match?: string | undefined;
  readonly delay_ms?: number | undefined;
  readonly timeout_ms?: number | undefined;
  readonly failures?: number | undefined;
  readonly successes?: number | undefined;
  /**
   * https only: verify the node's certificate. Default: the pool's `tls.verify` when the pool
   * has `tls` (against its `ca`), else false (liveness only).
   */
  readonly verify_tls?: boolean | undefined;
}

/** A monitor ready to run: defaults applied, status spec and body regex compiled. */
export interface MonitorSpec {
  readonly name: string;
  readonly type: 'tcp' | 'http' | 'https';
  readonly path: string;
  readonly hostHeader: string | undefined;
  readonly expectStatus: StatusMatcher;
  readonly bodyMatch: RegExp | undefined;
  readonly delayMs: number;
  readonly timeoutMs: number;
  readonly failures: number;
  readonly successes: number;
  /** Explicit `verify_tls`; undefined = the pool's `tls.verify`, or false without pool tls. */
  readonly verifyTls: boolean | undefined;
}

/** Defaults of a monitor, as in the issue-4 design. */
export const monitorDefaults = {
  path: '/',
  expectStatus: '200-399',
  delayMs: 5_000,
  timeoutMs: 2_000,
  failures: 3,
  successes: 2,
} as const;

/** Compiles a monitor's configuration; throws POSTERN_ERR_MONITOR_INVALID when it cannot run. */
export function monitorSpecFromConfig(config: MonitorConfigInput): MonitorSpec {
  const expectStatus = parseStatusSpec(config.expect_status ?? monitorDefaults.expectStatus);
  if (!expectStatus) {
    throw trafficErrors.monitorInvalid(
      config.name,
      `expect_status ${JSON.stringify(config.expect_status)} is not a status, a range like "200-399" or a list of them`,
    );
  }
  let bodyMatch: RegExp | undefined;
  try {
    bodyMatch = config.body_match === undefined ? undefined : new RegExp(config.body_match);
  } catch (cause) {
    throw trafficErrors.monitorInvalid(
      config.name,
      `body_match is not a valid regular expression`,
      cause,
    );
  }
  const spec: MonitorSpec = {
    name: config.name,
    type: config.type,
    path: config.path ?? monitorDefaults.path,
    hostHeader: config.host_header,
    expectStatus,
    bodyMatch,
    delayMs: config.delay_ms ?? monitorDefaults.delayMs,
    timeoutMs: config.timeout_ms ?? monitorDefaults.timeoutMs,
    failures: config.failures ?? monitorDefaults.failures,
    successes: config.successes ?? monitorDefaults.successes,
    verifyTls: config.verify_tls,
  };
  const counts = {
    delay_ms: spec.delayMs,
    timeout_ms: spec.timeoutMs,
    failures: spec.failures,
    successes: spec.successes,
  };
  for (const [key, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 1) {
      throw trafficErrors.monitorInvalid(
        config.name,
        `${key} must be a whole number of at least 1`,
      );
    }
  }
  if (!spec.path.startsWith('/')) {
    throw trafficErrors.monitorInvalid(config.name, `path must start with "/"`);
  }
  return spec;
}
