import { Gauge, type Registry } from 'prom-client';
import type { CollectionObject, Configuration } from '../config/index.js';
import type { ApplicationHealthView } from '../control/index.js';
import type { HealthState, Message } from '../protocol/index.js';

type Application = CollectionObject<'applications'>;

/** Who reported: the tunnel's certificate identity. */
interface Reporter {
  readonly connectorId: string;
  readonly group: string;
}

interface Entry {
  readonly group: string;
  readonly report: Message<'app_health'>;
}

const STATES: readonly HealthState[] = ['up', 'down', 'unhealthy', 'unknown'];

/**
 * Application health on this edge: each connector's latest `app_health` per application,
 * aggregated per destination and per application. A connector's reports leave with its tunnel;
 * a report counts only from a group that serves the application.
 */
export class ApplicationHealthRegistry {
  /** application → connector → latest report. */
  readonly #reports = new Map<string, Map<string, Entry>>();

  /** Applies one report; returns false when the application is not the reporter's to report. */
  apply(reporter: Reporter, message: Message<'app_health'>, config: Configuration): boolean {
    const app = (config.applications ?? []).find((a) => a.name === message.application);
    if (app === undefined || !app.connector_groups.includes(reporter.group)) return false;
    let byConnector = this.#reports.get(app.name);
    if (byConnector === undefined) {
      byConnector = new Map();
      this.#reports.set(app.name, byConnector);
    }
    byConnector.set(reporter.connectorId, { group: reporter.group, report: message });
    return true;
  }

  /** Forgets what a connector reported (its tunnel to this edge closed). */
  disconnected(connectorId: string): void {
    for (const byConnector of this.#reports.values()) byConnector.delete(connectorId);
  }

  /** The health of an application as the admin API shows it. */
  view(app: Application): ApplicationHealthView {
    const reporting = app.health_reporting;
    const entries = reporting === 'none' ? [] : this.#entries(app);
    const connectors = entries.map(([connector, e]) => ({
      connector,
      group: e.group,
      state: e.report.state,
      last_check_at: iso(lastCheck(e.report)),
      destinations: e.report.destinations.map((d) => ({
        destination: d.destination,
        state: d.state,
        last_check_at: iso(d.checkedAt),
        ports: d.ports.map((p) => ({
          port: p.port,
          state: p.state,
          up: p.up,
          down: p.down,
          ...(p.detail === undefined ? {} : { detail: p.detail }),
        })),
      })),
    }));
    const byDestination = new Map<string, HealthState[]>();
    for (const [, e] of entries) {
      for (const d of e.report.destinations) {
        const list = byDestination.get(d.destination) ?? [];
        list.push(d.state);
        byDestination.set(d.destination, list);
      }
    }
    const destinations = [...byDestination]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([destination, states]) => ({ destination, state: aggregateHealth(states) }));
    const checks = entries.flatMap(([, e]) => lastCheck(e.report) ?? []);
    return {
      state: aggregateHealth(destinations.map((d) => d.state)),
      reporting,
      last_check_at: iso(checks.length === 0 ? undefined : Math.max(...checks)),
      destinations,
      connectors,
    };
  }

  /** Registers `postern_edge_application_health` (1 for each application's current state). */
  registerMetric(registry: Registry, config: () => Configuration): void {
    const stateOf = (app: Application): HealthState => this.view(app).state;
    new Gauge({
      name: 'postern_edge_application_health',
      help: 'Application health on this edge: 1 for the current state of each application, else 0.',
      labelNames: ['application', 'state'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const app of config().applications ?? []) {
          const current = stateOf(app);
          for (const state of STATES) {
            this.set({ application: app.name, state }, state === current ? 1 : 0);
          }
        }
      },
    });
  }

  #entries(app: Application): [string, Entry][] {
    const byConnector = this.#reports.get(app.name);
    if (byConnector === undefined) return [];
    return [...byConnector]
      .filter(([, e]) => app.connector_groups.includes(e.group))
      .sort(([a], [b]) => a.localeCompare(b));
  }
}

/**
 * The state of a whole from its parts: up when all known parts are up, down when all are down,
 * unhealthy when some are down or unhealthy, unknown when nothing is known.
 */
export function aggregateHealth(states: readonly HealthState[]): HealthState {
  const known = states.filter((s) => s !== 'unknown');
  if (known.length === 0) return 'unknown';
  if (known.every((s) => s === 'up')) return 'up';
  if (known.every((s) => s === 'down')) return 'down';
  return 'unhealthy';
}

function lastCheck(report: Message<'app_health'>): number | undefined {
  const times = report.destinations.map((d) => d.checkedAt);
  return times.length === 0 ? undefined : Math.max(...times);
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
