/** What a pool believes about a node: `unknown` until a monitor has spoken. */
export type HealthState = 'up' | 'down' | 'unknown';

/** Thresholds that keep one failed or passed probe from flapping a node. */
export interface HealthThresholds {
  /** Consecutive failures before an up (or unknown) node is down. */
  readonly failures: number;
  /** Consecutive successes before a down node is up again. */
  readonly successes: number;
}

/** One monitor's view of one node. */
export interface MonitorState {
  health: HealthState;
  okStreak: number;
  failStreak: number;
  /**
   * Why the monitor does not see the node up: the failure of its last failed check, cleared
   * once checks have the node up again (as HAProxy's check status shows the last check).
   */
  lastError: string | undefined;
  /** The last failed check, kept after the node is up again: its failure and epoch ms. */
  lastFailure: string | undefined;
  lastFailureAt: number | undefined;
  /** Epoch ms of the last completed check. */
  lastCheckAt: number | undefined;
  /** Checks completed. */
  checks: number;
}

/** A monitor state for a node that has not been checked yet. */
export function initialMonitorState(): MonitorState {
  return {
    health: 'unknown',
    okStreak: 0,
    failStreak: 0,
    lastError: undefined,
    lastFailure: undefined,
    lastFailureAt: undefined,
    lastCheckAt: undefined,
    checks: 0,
  };
}

/**
 * Applies one check result and returns true when the health changed. An unchecked node needs
 * only one success to be up (as Envoy does at startup), so a fresh pool serves quickly, but the
 * full failure threshold to be down.
 */
export function recordCheck(
  state: MonitorState,
  result: { ok: boolean; detail?: string | undefined; at: number },
  thresholds: HealthThresholds,
): boolean {
  const before = state.health;
  state.lastCheckAt = result.at;
  state.checks += 1;
  if (result.ok) {
    state.okStreak += 1;
    state.failStreak = 0;
    if (before === 'unknown' || (before === 'down' && state.okStreak >= thresholds.successes)) {
      state.health = 'up';
    }
    // A down node still recovering (fewer than `successes`) keeps showing why it is down.
    if (state.health === 'up') state.lastError = undefined;
  } else {
    state.failStreak += 1;
    state.okStreak = 0;
    state.lastError = result.detail ?? 'check failed';
    state.lastFailure = state.lastError;
    state.lastFailureAt = result.at;
    if (before !== 'down' && state.failStreak >= thresholds.failures) state.health = 'down';
  }
  return state.health !== before;
}

/** Combines monitors: down if any says down, up if all say up, otherwise unknown. */
export function combineHealth(states: Iterable<HealthState>): HealthState {
  let all = true;
  let any = false;
  for (const health of states) {
    any = true;
    if (health === 'down') return 'down';
    if (health !== 'up') all = false;
  }
  return any && all ? 'up' : 'unknown';
}
