import type { Logger } from 'pino';
import type { Pool as PoolConfig } from '../config/index.js';
import type { Clock } from '../core/index.js';
import type { Message } from '../protocol/index.js';
import {
  NO_WEIGHTS,
  splitHostPort,
  type DiscoveryStatus,
  type NodeWeights,
  type Pool,
} from '../traffic/index.js';

/** The weights a report gives its addresses; none from older connectors (all weigh 1). */
export function weightsOf(
  addresses: readonly string[],
  weights: Readonly<Record<string, number>> | undefined,
): NodeWeights {
  if (weights === undefined) return NO_WEIGHTS;
  const result = new Map<string, number>();
  for (const address of addresses) {
    const weight = Object.hasOwn(weights, address) ? weights[address] : undefined;
    if (weight !== undefined) result.set(address, weight);
  }
  return result;
}

/** Who sent a report: the tunnel's certificate identity. */
export interface Reporter {
  readonly connectorId: string;
  readonly group: string;
}

/** A report a connector sends on the control stream. */
export type RemoteReport = Message<'health'> | Message<'discovered'>;

/** Discovery of a `via` pool as the admin API shows it: resolved on a connector. */
export interface RemoteDiscoveryStatus extends DiscoveryStatus {
  readonly runsOn: 'connector';
  /** The connector whose report is in force (the latest one). */
  readonly reportedBy: string | undefined;
}

interface DiscoveryRecord {
  reportedBy: string | undefined;
  nodes: number | undefined;
  lastSuccessAt: number | undefined;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
}

/**
 * Applies what connectors report about `via` pools: health check results go to
 * Pool.recordCheck, discovered node sets to Pool.setDiscoveredNodes. A report counts only for a
 * pool reached through the reporter's own group, and a check only for a node of that pool.
 * With several connectors in a group each reports; reports are applied in arrival order, so
 * the latest one wins (for checks: each result counts towards the monitor's thresholds).
 */
export class RemoteReports {
  readonly #log: Logger;
  readonly #clock: Clock;
  /** By pool name; carried across generations like the pools' own runtime state. */
  readonly #discovery = new Map<string, DiscoveryRecord>();

  constructor(options: { logger: Logger; clock: Clock }) {
    this.#log = options.logger;
    this.#clock = options.clock;
  }

  /** Applies one report to the pool it names; returns false when it was refused. */
  apply(
    reporter: Reporter,
    report: RemoteReport,
    target: { pool: Pool | undefined; spec: PoolConfig | undefined },
  ): boolean {
    const { pool, spec } = target;
    if (pool === undefined || spec === undefined || pool.via !== reporter.group) {
      this.#refuse(reporter, report, 'not a pool of the connector group');
      return false;
    }
    return report.type === 'health'
      ? this.#health(pool, reporter, report)
      : this.#discovered(pool, spec, reporter, report);
  }

  /** Status of a `via` pool's discovery, or undefined when it has none. */
  discoveryStatus(spec: PoolConfig): RemoteDiscoveryStatus | undefined {
    if (spec.via === undefined || spec.discovery === undefined) return undefined;
    const record = this.#discovery.get(spec.name);
    return {
      name: spec.discovery.dns.name,
      type: spec.discovery.dns.type,
      nodes: record?.nodes,
      lastSuccessAt: record?.lastSuccessAt,
      lastError: record?.lastError,
      lastErrorAt: record?.lastErrorAt,
      nextRefreshAt: undefined,
      runsOn: 'connector',
      reportedBy: record?.reportedBy,
    };
  }

  /** Forgets pools that no longer exist. */
  retain(pools: ReadonlySet<string>): void {
    for (const name of this.#discovery.keys()) if (!pools.has(name)) this.#discovery.delete(name);
  }

  #health(pool: Pool, reporter: Reporter, report: Message<'health'>): boolean {
    const known = pool.status().nodes.some((n) => n.address === report.address && !n.removed);
    if (!known) {
      this.#refuse(reporter, report, `${report.address} is not a node of the pool`);
      return false;
    }
    const { ok, detail } = report.result;
    pool.recordCheck(report.address, report.monitor, {
      ok,
      detail: detail ?? (ok ? 'ok' : 'check failed'),
    });
    return true;
  }

  #discovered(
    pool: Pool,
    spec: PoolConfig,
    reporter: Reporter,
    report: Message<'discovered'>,
  ): boolean {
    if (spec.discovery === undefined) {
      this.#refuse(reporter, report, 'the pool has no discovery');
      return false;
    }
    const record = this.#record(spec.name);
    record.reportedBy = reporter.connectorId;
    if (report.error !== undefined) {
      Object.assign(record, { lastError: report.error, lastErrorAt: this.#clock.now() });
      this.#log.warn(
        { pool: spec.name, connector: reporter.connectorId, err: report.error },
        'DNS discovery failed on the connector; keeping the last good nodes',
      );
      return true;
    }
    const addresses = report.addresses.filter((a) => splitHostPort(a) !== undefined);
    if (addresses.length < report.addresses.length) {
      this.#refuse(reporter, report, 'some addresses are not host:port; ignoring them');
    }
    Object.assign(record, {
      nodes: addresses.length,
      lastSuccessAt: this.#clock.now(),
      lastError: undefined,
    });
    pool.setDiscoveredNodes(addresses, weightsOf(addresses, report.weights));
    return true;
  }

  #record(pool: string): DiscoveryRecord {
    let record = this.#discovery.get(pool);
    if (record === undefined) {
      record = {
        reportedBy: undefined,
        nodes: undefined,
        lastSuccessAt: undefined,
        lastError: undefined,
        lastErrorAt: undefined,
      };
      this.#discovery.set(pool, record);
    }
    return record;
  }

  #refuse(reporter: Reporter, report: RemoteReport, why: string): void {
    this.#log.debug(
      {
        connector: reporter.connectorId,
        group: reporter.group,
        pool: report.pool,
        type: report.type,
      },
      `connector report ignored: ${why}`,
    );
  }
}
