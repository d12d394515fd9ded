import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/index.js';
import {
  MAX_CHECK_DETAIL,
  type CheckResult,
  type MonitorWork,
  type WirePoolTls,
} from '../protocol/index.js';
import {
  HealthChecker,
  monitorSpecFromConfig,
  poolTlsFromPublic,
  type Dialer,
  type DialRequest,
  type DialResult,
  type MonitorSpec,
} from '../traffic/index.js';
import { HealthReporter } from './health-reporter.js';

/** One health report for the edge. */
export interface HealthReport {
  readonly pool: string;
  readonly address: string;
  readonly monitor: string;
  readonly result: CheckResult;
}

/** How a connector runs the health checks the edge asks for. */
export interface RemoteMonitorsOptions {
  /** Reaches nodes (with the group's policy applied). */
  readonly dialer: Dialer;
  /** Receives the results worth sending (see HealthReporter). */
  readonly report: (report: HealthReport) => void;
  readonly logger: Logger;
  /** Default: the system clock. */
  readonly clock?: Clock | undefined;
  /** Longest silence about one check; default 30 s. */
  readonly heartbeatMs?: number | undefined;
  /** Told of every check result, sent or not (metrics); default none. */
  readonly onCheck?: ((ok: boolean) => void) | undefined;
}

/**
 * The health checks of a connector's group: one HealthChecker per pool and monitor, reconciled
 * with each `config` from the edge (checks whose pool, monitor and node are unchanged keep
 * running undisturbed), results thinned by a HealthReporter and handed to `report`.
 */
export class RemoteMonitors {
  readonly #o: RemoteMonitorsOptions;
  readonly #clock: Clock;
  readonly #reporter: HealthReporter;
  readonly #running = new Map<string, HealthChecker>();

  constructor(options: RemoteMonitorsOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#reporter = new HealthReporter(
      options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs },
    );
  }

  /** Number of node × monitor checks running. */
  get checks(): number {
    let total = 0;
    for (const checker of this.#running.values()) total += checker.loops;
    return total;
  }

  /** Runs exactly these checks from now on. */
  apply(work: readonly MonitorWork[]): void {
    const wanted = new Map<string, { pool: string; work: MonitorWork; addresses: string[] }>();
    const reportKeys = new Set<string>();
    const poolTls = poolTlsOf(work);
    for (const item of work) {
      const tls = poolTls.get(item.pool);
      // A changed CA or server name restarts the pool's checks, like a changed monitor.
      const key = `${item.pool}\n${JSON.stringify(item.monitor)}\n${JSON.stringify(tls ?? null)}`;
      let entry = wanted.get(key);
      if (entry === undefined) {
        entry = {
          pool: item.pool,
          work: tls === undefined ? item : { ...item, tls },
          addresses: [],
        };
        wanted.set(key, entry);
      }
      if (!entry.addresses.includes(item.address)) entry.addresses.push(item.address);
      reportKeys.add(reportKey(item.pool, item.monitor.name, item.address));
    }
    for (const [key, checker] of this.#running) {
      if (wanted.has(key)) continue;
      checker.stop();
      this.#running.delete(key);
    }
    for (const [key, entry] of wanted) {
      const checker = this.#running.get(key) ?? this.#startChecker(key, entry.pool, entry.work);
      checker?.setNodes(entry.addresses);
    }
    this.#reporter.retain(reportKeys);
    this.#reporter.resetRuns();
  }

  /** Stops every check; results in flight are dropped. */
  stop(): void {
    for (const checker of this.#running.values()) checker.stop();
    this.#running.clear();
  }

  #startChecker(key: string, pool: string, work: MonitorWork): HealthChecker | undefined {
    let spec: MonitorSpec;
    try {
      spec = monitorSpecFromConfig(work.monitor);
    } catch (err) {
      this.#o.logger.warn(
        { pool, monitor: work.monitor.name, err: (err as Error).message },
        'cannot run a monitor the edge sent; skipping it',
      );
      return undefined;
    }
    const dialer = new TimedDialer(this.#o.dialer, this.#clock);
    const checker = new HealthChecker({
      pool,
      via: undefined,
      tls: work.tls === undefined ? undefined : poolTlsFromPublic(pool, work.tls),
      monitors: [spec],
      dialer,
      clock: this.#clock,
      onResult: (address, monitor, result) => {
        this.#o.onCheck?.(result.ok);
        const thresholds = { failures: monitor.failures, successes: monitor.successes };
        const key = reportKey(pool, monitor.name, address);
        if (!this.#reporter.record(key, result.ok, thresholds, this.#clock.now())) return;
        const durationMs = dialer.elapsedSince(address);
        this.#o.report({
          pool,
          address,
          monitor: monitor.name,
          result: {
            ok: result.ok,
            detail: result.detail.slice(0, MAX_CHECK_DETAIL),
            ...(durationMs === undefined ? {} : { durationMs }),
          },
        });
      },
    });
    this.#running.set(key, checker);
    checker.start();
    return checker;
  }
}

/** Each pool's `tls`, which the edge sends on one of the pool's items (see monitorWorkSchema). */
function poolTlsOf(work: readonly MonitorWork[]): Map<string, WirePoolTls> {
  const tls = new Map<string, WirePoolTls>();
  for (const item of work) {
    if (item.tls !== undefined && !tls.has(item.pool)) tls.set(item.pool, item.tls);
  }
  return tls;
}

function reportKey(pool: string, monitor: string, address: string): string {
  return `${pool}\n${monitor}\n${address}`;
}

/**
 * Remembers when the last dial to each node started. The checker probes one node with one
 * monitor at a time, so at result time that is the start of the probe being reported.
 */
class TimedDialer implements Dialer {
  readonly #inner: Dialer;
  readonly #clock: Clock;
  readonly #started = new Map<string, number>();

  constructor(inner: Dialer, clock: Clock) {
    this.#inner = inner;
    this.#clock = clock;
  }

  dial(request: DialRequest): Promise<DialResult> {
    this.#started.set(request.address, this.#clock.monotonic());
    return this.#inner.dial(request);
  }

  /** Milliseconds since the last dial to `address` started (rounded to 0.1 ms), read once. */
  elapsedSince(address: string): number | undefined {
    const started = this.#started.get(address);
    if (started === undefined) return undefined;
    this.#started.delete(address);
    return Math.round((this.#clock.monotonic() - started) * 10) / 10;
  }
}
