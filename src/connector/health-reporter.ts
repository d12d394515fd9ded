import type { HealthThresholds } from '../traffic/index.js';

/** Default longest silence about one check before its result is sent again anyway. */
export const DEFAULT_HEALTH_HEARTBEAT_MS = 30_000;

interface Streak {
  ok: boolean;
  /** Consecutive results equal to `ok`, counted since the last reset. */
  count: number;
  lastSentAt: number;
}

/**
 * Decides which check results a connector sends to the edge, to keep the control stream quiet
 * without changing what the edge concludes. The edge folds results into up/down with the
 * monitor's thresholds, so a result is sent while the current run of equal results is no
 * longer than the threshold that run could cross (`failures` for failed checks, `successes`
 * for passed ones); once past it, more of the same cannot change the edge's view and only a
 * heartbeat goes out every `heartbeatMs`. A change of outcome is always sent.
 */
export class HealthReporter {
  readonly #heartbeatMs: number;
  readonly #streaks = new Map<string, Streak>();

  constructor(options: { heartbeatMs?: number } = {}) {
    this.#heartbeatMs = options.heartbeatMs ?? DEFAULT_HEALTH_HEARTBEAT_MS;
  }

  /** Number of checks being tracked. */
  get size(): number {
    return this.#streaks.size;
  }

  /** Records one result of the check `key` at `now` (ms); returns true when it is to be sent. */
  record(key: string, ok: boolean, thresholds: HealthThresholds, now: number): boolean {
    const streak = this.#streaks.get(key);
    if (streak === undefined) {
      this.#streaks.set(key, { ok, count: 1, lastSentAt: now });
      return true;
    }
    if (streak.ok === ok) streak.count += 1;
    else Object.assign(streak, { ok, count: 1 });
    const threshold = ok ? thresholds.successes : thresholds.failures;
    if (streak.count > threshold && now - streak.lastSentAt < this.#heartbeatMs) return false;
    streak.lastSentAt = now;
    return true;
  }

  /**
   * Starts every run afresh: the next results are sent up to the thresholds again. Called when
   * the edge sends new configuration, since it may have rebuilt a pool and lost its streaks.
   */
  resetRuns(): void {
    for (const streak of this.#streaks.values()) streak.count = 0;
  }

  /** Forgets checks that are no longer run. */
  retain(keys: ReadonlySet<string>): void {
    for (const key of this.#streaks.keys()) if (!keys.has(key)) this.#streaks.delete(key);
  }
}
