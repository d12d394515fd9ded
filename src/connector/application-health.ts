import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../core/index.js';
import {
  MAX_CHECK_DETAIL,
  MAX_HEALTH_DESTINATIONS,
  type ApplicationHealthWork,
  type DestinationHealth,
  type HealthState,
} from '../protocol/index.js';
import { tcpProbe, type DestinationProbe } from './application-probe.js';
import { isExactDomain, matchApplication } from './application-target-match.js';

/** ZPA's On Access window: destinations are checked until this long after their last access. */
export const ON_ACCESS_WINDOW_MS = 30 * 60 * 1000;
/** Default longest silence about an application whose state does not change. */
export const DEFAULT_APP_HEALTH_HEARTBEAT_MS = 30_000;
/** Most ports of one destination checked (continuous applications list at most 10). */
const MAX_PORTS_PER_DESTINATION = 16;

/** One application's health as this connector sees it, sent to the edge as `app_health`. */
export interface ApplicationHealthReport {
  readonly application: string;
  readonly state: HealthState;
  readonly destinations: DestinationHealth[];
}

/** How an {@link ApplicationHealthMonitor} runs; every field but `report` has a default. */
export interface ApplicationHealthOptions {
  readonly report: (report: ApplicationHealthReport) => void;
  /** Default: a TCP handshake with each resolved address (tcpProbe). */
  readonly probe?: DestinationProbe | undefined;
  /** Default: the system clock. */
  readonly clock?: Clock | undefined;
  /** Default 30 minutes (ZPA). */
  readonly onAccessWindowMs?: number | undefined;
  /** Default 30 s. */
  readonly heartbeatMs?: number | undefined;
  readonly logger?: Logger | undefined;
}

interface Tracked {
  /** Ports accessed (checked besides the application's own ports for exact names). */
  readonly ports: Set<number>;
  lastAccessAt: number | undefined;
  result: DestinationHealth | undefined;
}

interface AppRun {
  work: ApplicationHealthWork;
  readonly destinations: Map<string, Tracked>;
  timer: TimerHandle | undefined;
  running: boolean;
  again: boolean;
  lastSent: string | undefined;
  lastSentAt: number;
}

/**
 * Application health reporting on a connector (ZPA's Continuous and On Access modes). Continuous
 * applications have their exact names checked all the time, plus names and addresses users
 * reached under wildcards and CIDRs; On Access applications only what was reached, while in use
 * and for `onAccessWindowMs` after the last access, after which they fall back to unknown.
 */
export class ApplicationHealthMonitor {
  readonly #o: ApplicationHealthOptions;
  readonly #clock: Clock;
  readonly #probe: DestinationProbe;
  readonly #windowMs: number;
  readonly #heartbeatMs: number;
  readonly #apps = new Map<string, AppRun>();
  #stopped = false;

  constructor(options: ApplicationHealthOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#probe = options.probe ?? tcpProbe;
    this.#windowMs = options.onAccessWindowMs ?? ON_ACCESS_WINDOW_MS;
    this.#heartbeatMs = options.heartbeatMs ?? DEFAULT_APP_HEALTH_HEARTBEAT_MS;
  }

  /** Checks exactly these applications from now on; accesses of kept ones are remembered. */
  apply(work: readonly ApplicationHealthWork[]): void {
    const wanted = new Map(work.map((w) => [w.name, w]));
    for (const [name, run] of this.#apps) {
      if (wanted.has(name)) continue;
      if (run.timer !== undefined) this.#clock.clearTimeout(run.timer);
      this.#apps.delete(name);
    }
    for (const w of wanted.values()) {
      const run = this.#apps.get(w.name) ?? this.#newRun(w);
      run.work = w;
      for (const d of run.destinations.keys()) {
        if (matchApplication([w], d, this.#anyPort(run, d)) === undefined) {
          run.destinations.delete(d);
        }
      }
      this.#kick(run);
    }
  }

  /** Records a user's access to a destination; the most specific application is checked for it. */
  accessed(target: { host: string; port: number }): void {
    const app = matchApplication(
      [...this.#apps.values()].map((r) => r.work),
      target.host,
      target.port,
    );
    const run = app && this.#apps.get(app.name);
    if (run === undefined) return;
    const key = target.host.toLowerCase().replace(/\.$/, '');
    let tracked = run.destinations.get(key);
    const fresh = tracked === undefined || !tracked.ports.has(target.port);
    if (tracked === undefined) {
      if (run.destinations.size >= MAX_HEALTH_DESTINATIONS) this.#evictOldest(run);
      tracked = { ports: new Set(), lastAccessAt: undefined, result: undefined };
      run.destinations.set(key, tracked);
    }
    tracked.ports.add(target.port);
    tracked.lastAccessAt = this.#clock.now();
    if (fresh) this.#kick(run);
    else if (run.timer === undefined && !run.running) this.#schedule(run);
  }

  /** Runs one round of checks of every application now (or of `name` only). */
  async checkNow(name?: string): Promise<void> {
    const runs = [...this.#apps.values()].filter((r) => name === undefined || r.work.name === name);
    await Promise.all(runs.map((r) => this.#round(r)));
  }

  /** The last report of an application, or undefined when it has none. */
  snapshot(name: string): ApplicationHealthReport | undefined {
    const run = this.#apps.get(name);
    return run && this.#reportOf(run);
  }

  /** Stops every check; results in flight are dropped. */
  stop(): void {
    this.#stopped = true;
    for (const run of this.#apps.values()) {
      if (run.timer !== undefined) this.#clock.clearTimeout(run.timer);
    }
    this.#apps.clear();
  }

  #newRun(work: ApplicationHealthWork): AppRun {
    const run: AppRun = {
      work,
      destinations: new Map(),
      timer: undefined,
      running: false,
      again: false,
      lastSent: undefined,
      lastSentAt: 0,
    };
    this.#apps.set(work.name, run);
    return run;
  }

  /** Starts a round as soon as possible (at once, or right after the one running). */
  #kick(run: AppRun): void {
    if (run.running) {
      run.again = true;
      return;
    }
    if (run.timer !== undefined) this.#clock.clearTimeout(run.timer);
    run.timer = this.#clock.setTimeout(() => void this.#fire(run), 0);
    run.timer.unref?.();
  }

  #schedule(run: AppRun): void {
    if (this.#stopped || this.#apps.get(run.work.name) !== run) return;
    if (run.destinations.size === 0 && !this.#pinnedNames(run.work).length) return;
    run.timer = this.#clock.setTimeout(() => void this.#fire(run), run.work.intervalMs);
    run.timer.unref?.();
  }

  async #fire(run: AppRun): Promise<void> {
    run.timer = undefined;
    try {
      await this.#round(run);
    } catch (err) {
      this.#o.logger?.warn({ application: run.work.name, err }, 'application health check failed');
    }
  }

  async #round(run: AppRun): Promise<void> {
    if (run.running) {
      run.again = true;
      return;
    }
    run.running = true;
    try {
      do {
        run.again = false;
        await this.#checkAll(run);
      } while (run.again && !this.#stopped);
    } finally {
      run.running = false;
    }
    if (this.#stopped || this.#apps.get(run.work.name) !== run) return;
    this.#send(run);
    if (run.timer === undefined) this.#schedule(run);
  }

  async #checkAll(run: AppRun): Promise<void> {
    const now = this.#clock.now();
    const continuous = run.work.mode === 'continuous';
    for (const name of this.#pinnedNames(run.work)) {
      if (!run.destinations.has(name)) {
        run.destinations.set(name, {
          ports: new Set(),
          lastAccessAt: undefined,
          result: undefined,
        });
      }
    }
    for (const [name, tracked] of run.destinations) {
      const pinned = continuous && isExactDomain(run.work, name);
      const expired =
        tracked.lastAccessAt === undefined || now - tracked.lastAccessAt >= this.#windowMs;
      if (!pinned && !continuous && expired) run.destinations.delete(name);
      if (!pinned && continuous && tracked.lastAccessAt === undefined)
        run.destinations.delete(name);
    }
    const entries = [...run.destinations.entries()];
    for (let i = 0; i < entries.length; i += 16) {
      await Promise.all(
        entries.slice(i, i + 16).map(async ([name, tracked]) => {
          tracked.result = await this.#checkDestination(run, name, tracked);
        }),
      );
    }
  }

  async #checkDestination(run: AppRun, name: string, tracked: Tracked): Promise<DestinationHealth> {
    const ports = new Set(tracked.ports);
    if (run.work.mode === 'continuous' && isExactDomain(run.work, name)) {
      for (const [from, to] of run.work.ports) {
        for (let p = from; p <= to && ports.size < MAX_PORTS_PER_DESTINATION; p++) ports.add(p);
      }
    }
    const results = await Promise.all(
      [...ports]
        .sort((a, b) => a - b)
        .map(async (port) => {
          const outcome = await this.#probe(name, port, run.work.timeoutMs);
          const state = combine(
            outcome.up.length > 0,
            outcome.down.length > 0 || !outcome.up.length,
          );
          return {
            port,
            state,
            up: [...outcome.up],
            down: [...outcome.down],
            ...(outcome.detail === undefined
              ? {}
              : { detail: outcome.detail.slice(0, MAX_CHECK_DETAIL) }),
          };
        }),
    );
    return {
      destination: name,
      state: aggregate(results.map((r) => r.state)),
      ports: results,
      checkedAt: this.#clock.now(),
    };
  }

  #send(run: AppRun): void {
    const report = this.#reportOf(run);
    // Check times change every round; only a change of state or of addresses is news.
    const signature = JSON.stringify(report.destinations.map((d) => ({ ...d, checkedAt: 0 })));
    const now = this.#clock.now();
    if (signature === run.lastSent && now - run.lastSentAt < this.#heartbeatMs) return;
    run.lastSent = signature;
    run.lastSentAt = now;
    this.#o.report(report);
  }

  #reportOf(run: AppRun): ApplicationHealthReport {
    const destinations = [...run.destinations.values()].flatMap((t) => t.result ?? []);
    destinations.sort((a, b) => a.destination.localeCompare(b.destination));
    return {
      application: run.work.name,
      state: aggregate(destinations.map((d) => d.state)),
      destinations,
    };
  }

  #pinnedNames(work: ApplicationHealthWork): string[] {
    if (work.mode !== 'continuous') return [];
    return work.domains.filter((d) => !d.startsWith('*.')).map((d) => d.toLowerCase());
  }

  #anyPort(run: AppRun, destination: string): number {
    const first = run.destinations.get(destination)?.ports.values().next();
    return first?.done === false ? first.value : (run.work.ports[0]?.[0] ?? 1);
  }

  #evictOldest(run: AppRun): void {
    let oldest: [string, number] | undefined;
    for (const [name, t] of run.destinations) {
      const at = t.lastAccessAt ?? Number.POSITIVE_INFINITY;
      if (oldest === undefined || at < oldest[1]) oldest = [name, at];
    }
    if (oldest) run.destinations.delete(oldest[0]);
  }
}

function combine(someUp: boolean, someDown: boolean): HealthState {
  if (someUp && someDown) return 'unhealthy';
  return someUp ? 'up' : 'down';
}

/**
 * The state of a whole from its parts: up when all are up, down when all are down, unhealthy
 * when some are down or unhealthy, unknown when there is nothing known.
 */
export function aggregate(states: readonly HealthState[]): HealthState {
  const known = states.filter((s) => s !== 'unknown');
  if (known.length === 0) return 'unknown';
  if (known.every((s) => s === 'up')) return 'up';
  if (known.every((s) => s === 'down')) return 'down';
  return 'unhealthy';
}
