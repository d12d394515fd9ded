import type { Clock } from '../core/index.js';
import type { DiscoveryStatus } from './discovery/index.js';
import type { HealthState } from './health/index.js';
import type { PoolEntry } from './pool-node.js';
import { priorityOf } from './priority-groups.js';
import type { RequestOutcome, ResponseTimes } from './pool-node-figures.js';
import type { NodeState, PanicMode } from './pool-options.js';

/** One monitor's view of a node. */
export interface MonitorStatus {
  readonly name: string;
  readonly health: HealthState;
  /** Why the monitor does not see the node up; undefined once it does. */
  readonly lastError: string | undefined;
  /** The last failed check (epoch ms), kept after the node is up again. */
  readonly lastFailure: string | undefined;
  readonly lastFailureAt: number | undefined;
  readonly lastCheckAt: number | undefined;
  readonly checks: number;
}

/** One node of a pool, for the admin API. */
export interface PoolNodeStatus {
  readonly address: string;
  readonly state: NodeState;
  readonly source: 'config' | 'discovery';
  /** Gone from configuration and discovery; kept until its sessions finish. */
  readonly removed: boolean;
  /** Combined health: down when a monitor says down or passive health ejected the node. */
  readonly health: HealthState;
  readonly monitors: readonly MonitorStatus[];
  /** Epoch ms until which passive health keeps the node out; undefined when not ejected. */
  readonly ejectedUntil: number | undefined;
  readonly activeConnections: number;
  readonly picks: number;
  readonly failures: number;
  readonly consecutiveFailures: number;
  /** The last failed request or session on the node and when (epoch ms); kept once it works. */
  readonly lastError: string | undefined;
  readonly lastErrorAt: number | undefined;
  /** Moving average of response times, rounded to 0.1 ms. */
  readonly avgResponseMs: number | undefined;
  /** The last response time (HTTP: to the response head; TCP: to connect), rounded to 0.1 ms. */
  readonly lastResponseMs: number | undefined;
  /** HTTP requests sent to the node, by outcome (status class or failure); outcomes seen only. */
  readonly requests: Readonly<Partial<Record<RequestOutcome, number>>>;
  /** Sessions started on the node by tcp/tls virtual servers (and HTTP upgrades). */
  readonly sessions: number;
  /** The configured weight. */
  readonly weight: number;
  /** The node's priority group (discovered nodes: 1); used when the pool has priority lists. */
  readonly priority: number;
  /** With priority lists: the node is in a priority group in use now; undefined when off. */
  readonly inUse: boolean | undefined;
  /** Most picks in progress at once (node_max_connections or the node's own); 0 = no limit. */
  readonly maxConnections: number;
  /** Set while the node is in slow start: its weight now and when the ramp ends (epoch ms). */
  readonly slowStart: { readonly weight: number; readonly endsAt: number } | undefined;
  /** Response-time histogram, for metrics (the admin API leaves it out). */
  readonly responseTimes: ResponseTimes;
}

/** A pool, for the admin API: plain data, safe to serialise. */
export interface PoolStatus {
  readonly name: string;
  readonly via: string | undefined;
  readonly algorithm: string;
  readonly panicMode: PanicMode;
  /** Every active node is down and panic mode is `all`: sessions go to all active nodes anyway. */
  readonly panic: boolean;
  /** Every active node is down and panic mode is `none`: new sessions are refused. */
  readonly down: boolean;
  /** Nodes taking new sessions normally (with priority lists: of the groups in use). */
  readonly available: number;
  /** Priority lists: available nodes kept in use (`priority_nodes`); undefined when off. */
  readonly priorityNodes: number | undefined;
  readonly nodes: readonly PoolNodeStatus[];
  readonly discovery: DiscoveryStatus | undefined;
  readonly persistence: 'cookie' | 'source_ip' | undefined;
  /** Clients in the source-IP table. */
  readonly persistenceEntries: number | undefined;
  /** Requests and sessions waiting for a node below its connection limit. */
  readonly queued: number;
  /** Waits that ended in queue_timeout_ms since the pool first ran (a counter for metrics). */
  readonly queueTimeouts: number;
}

/** Builds a PoolStatus from a pool's current entries. */
export function buildPoolStatus(input: {
  name: string;
  via: string | undefined;
  algorithm: string;
  panicMode: PanicMode;
  entries: readonly PoolEntry[];
  eligible: readonly PoolEntry[];
  priorityNodes: number | undefined;
  panicCandidates: number;
  monitors: readonly string[];
  clock: Clock;
  discovery: DiscoveryStatus | undefined;
  persistence: 'cookie' | 'source_ip' | undefined;
  persistenceEntries: number | undefined;
  queued: number;
  queueTimeouts: number;
}): PoolStatus {
  const allDown = input.eligible.length === 0 && input.panicCandidates > 0;
  const inUse = input.priorityNodes === undefined ? undefined : new Set(input.eligible);
  const toEpoch = input.clock.now() - input.clock.monotonic();
  return {
    name: input.name,
    via: input.via,
    algorithm: input.algorithm,
    panicMode: input.panicMode,
    panic: allDown && input.panicMode === 'all',
    down: allDown && input.panicMode === 'none',
    available: input.eligible.length,
    priorityNodes: input.priorityNodes,
    nodes: input.entries.map((e) => ({
      address: e.address,
      state: e.state,
      source: e.meta.source,
      removed: e.meta.removed,
      health: e.health,
      monitors: input.monitors.map((name) => {
        const m = e.rt.monitors.get(name);
        return {
          name,
          health: m?.health ?? 'unknown',
          lastError: m?.lastError,
          lastFailure: m?.lastFailure,
          lastFailureAt: m?.lastFailureAt,
          lastCheckAt: m?.lastCheckAt,
          checks: m?.checks ?? 0,
        };
      }),
      ejectedUntil: e.rt.ejectedUntil === 0 ? undefined : Math.round(e.rt.ejectedUntil + toEpoch),
      activeConnections: e.rt.active,
      picks: e.rt.picks,
      failures: e.rt.failures,
      consecutiveFailures: e.rt.consecutiveFailures,
      lastError: e.rt.lastError,
      lastErrorAt: e.rt.lastErrorAt,
      avgResponseMs: tenths(e.rt.responseMs),
      lastResponseMs: tenths(e.rt.figures.lastResponseMs),
      requests: e.rt.figures.requestCounts(),
      sessions: e.rt.figures.sessions,
      weight: e.weight,
      priority: priorityOf(e),
      inUse: inUse?.has(e),
      maxConnections: e.meta.maxConnections ?? 0,
      slowStart: slowStartOf(e, toEpoch),
      responseTimes: e.rt.figures.responseTimes(),
    })),
    discovery: input.discovery,
    persistence: input.persistence,
    persistenceEntries: input.persistenceEntries,
    queued: input.queued,
    queueTimeouts: input.queueTimeouts,
  };
}

function tenths(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms * 10) / 10;
}

/** The node's slow start for status, or undefined when it is not ramping. */
function slowStartOf(e: PoolEntry, toEpoch: number): PoolNodeStatus['slowStart'] {
  const ramp = e.ramp;
  const from = e.rt.rampFrom;
  const ms = e.meta.slowStart?.ms;
  if (ramp >= 1 || from === undefined || ms === undefined) return undefined;
  return {
    weight: Math.round(e.weight * ramp * 100) / 100,
    endsAt: Math.round(from + ms + toEpoch),
  };
}
