import type { Clock } from '../core/index.js';
import type { BalancerAlgorithm, RandomSource } from './balancers/index.js';
import type { Dialer } from './dialer.js';
import { dnsDiscoverySpecFromConfig, type DnsDiscoveryConfigInput } from './discovery/index.js';
import { trafficErrors } from './errors.js';
import {
  monitorSpecFromConfig,
  passiveHealthFromConfig,
  type MonitorConfigInput,
  type PassiveHealthConfigInput,
} from './health/index.js';
import type { NodeState, PersistenceOptions, PoolEvent, PoolOptions } from './pool-options.js';
import { upstreamTlsFromConfig, type UpstreamTlsConfigInput } from './upstream-tls.js';

/** A pool as configuration documents write it (see the issue-4 design); defaults applied here. */
export interface PoolConfigInput {
  readonly name: string;
  readonly via?: string | undefined;
  readonly algorithm?: BalancerAlgorithm | undefined;
  /** Priority lists on; default false. */
  readonly priority_enabled?: boolean | undefined;
  /** Available nodes the priority lists keep in use; default 1. */
  readonly priority_nodes?: number | undefined;
  readonly nodes?:
    | readonly {
        readonly address: string;
        readonly weight?: number | undefined;
        readonly state?: NodeState | undefined;
        /** Overrides the pool's node_max_connections for this node; 0 = no limit. */
        readonly max_connections?: number | undefined;
        /** Priority group with priority_enabled; default 1. */
        readonly priority?: number | undefined;
      }[]
    | undefined;
  readonly discovery?: { readonly dns: DnsDiscoveryConfigInput } | undefined;
  /** Names of monitors in the configuration's `monitors` collection. */
  readonly monitors?: readonly string[] | undefined;
  readonly passive_health?: PassiveHealthConfigInput | undefined;
  readonly panic?: 'all' | 'none' | undefined;
  /** Slow start in ms; 0 or absent = off. */
  readonly slow_start_ms?: number | undefined;
  /** Most requests (http) or sessions (tcp/tls) in progress per node; 0 or absent = no limit. */
  readonly node_max_connections?: number | undefined;
  /** How long a pick waits for a node below its limit; 0 or absent = no queue. */
  readonly queue_timeout_ms?: number | undefined;
  /** Most picks waiting in the queue; default 1024. */
  readonly queue_max?: number | undefined;
  /** tcp/tls: a queued client's FIN leaves the queue (HAProxy's abortonclose); default false. */
  readonly abort_on_close?: boolean | undefined;
  readonly persistence?:
    | {
        readonly type: 'cookie';
        readonly cookie_name?: string | undefined;
        readonly ttl_ms?: number | undefined;
      }
    | { readonly type: 'source_ip'; readonly ttl_ms?: number | undefined }
    | undefined;
  /** TLS to the nodes; see UpstreamTlsConfigInput. */
  readonly tls?: UpstreamTlsConfigInput | undefined;
}

/** What building a pool from configuration needs besides the pool itself. */
export interface PoolBuildContext {
  /** The configuration's monitors, by name or as a list. */
  readonly monitors?:
    ReadonlyMap<string, MonitorConfigInput> | readonly MonitorConfigInput[] | undefined;
  /** Reaches nodes for active monitors; required when the pool names monitors. */
  readonly dialer?: Dialer | undefined;
  readonly monitorsRunRemotely?: boolean | undefined;
  readonly discoveryRunsRemotely?: boolean | undefined;
  readonly clock?: Clock | undefined;
  readonly random?: RandomSource | undefined;
  readonly onEvent?: ((event: PoolEvent) => void) | undefined;
  readonly dnsQueryTimeoutMs?: number | undefined;
  /** Secret that keys persistence cookies (shared by the edges of an HA set); default none. */
  readonly persistenceKey?: Uint8Array | undefined;
}

/** Defaults of persistence, as in the issue-4 design. */
export const persistenceDefaults = {
  cookieName: 'POSTERN_AFFINITY',
  sourceIpTtlMs: 3_600_000,
} as const;

/** Turns a pool's configuration into PoolOptions; throws POSTERN_ERR_POOL_INVALID / _MONITOR_INVALID. */
export function poolOptionsFromConfig(
  config: PoolConfigInput,
  context: PoolBuildContext,
): PoolOptions {
  const byName = new Map<string, MonitorConfigInput>(
    context.monitors === undefined
      ? []
      : 'get' in context.monitors
        ? [...context.monitors]
        : context.monitors.map((m) => [m.name, m]),
  );
  const monitors = (config.monitors ?? []).map((name) => {
    const monitor = byName.get(name);
    if (monitor === undefined)
      throw trafficErrors.poolInvalid(config.name, `monitor "${name}" is not defined`);
    return monitorSpecFromConfig(monitor);
  });
  const tls = upstreamTlsFromConfig(config.name, config.via, config.tls);
  if (tls && !tls.verify) {
    // Reported on every build (each configuration apply), so the warning shows in that log.
    const warning = `pool ${config.name} does not verify its nodes`;
    context.onEvent?.({ type: 'tls_unverified', pool: config.name, warning });
  }
  return {
    name: config.name,
    via: config.via,
    nodes: (config.nodes ?? []).map((n) => ({
      address: n.address,
      weight: n.weight ?? 1,
      state: n.state ?? 'active',
      maxConnections: n.max_connections,
      priority: n.priority,
    })),
    algorithm: config.algorithm,
    priorityNodes: config.priority_enabled === true ? (config.priority_nodes ?? 1) : undefined,
    panic: config.panic,
    slowStartMs: config.slow_start_ms,
    nodeMaxConnections: config.node_max_connections,
    queueTimeoutMs: config.queue_timeout_ms,
    queueMax: config.queue_max,
    abortOnClose: config.abort_on_close,
    passiveHealth: passiveHealthFromConfig(config.passive_health),
    persistence: persistenceFromConfig(config.persistence, context.persistenceKey),
    tls,
    monitors,
    dialer: context.dialer,
    monitorsRunRemotely: context.monitorsRunRemotely,
    discoveryRunsRemotely: context.discoveryRunsRemotely,
    discovery: config.discovery && dnsDiscoverySpecFromConfig(config.name, config.discovery.dns),
    dnsQueryTimeoutMs: context.dnsQueryTimeoutMs,
    clock: context.clock,
    random: context.random,
    onEvent: context.onEvent,
  };
}

function persistenceFromConfig(
  p: PoolConfigInput['persistence'],
  key: Uint8Array | undefined,
): PersistenceOptions | undefined {
  if (p === undefined) return undefined;
  if (p.type === 'cookie') {
    return {
      type: 'cookie',
      cookieName: p.cookie_name ?? persistenceDefaults.cookieName,
      ttlMs: p.ttl_ms,
      key,
    };
  }
  return { type: 'source_ip', ttlMs: p.ttl_ms ?? persistenceDefaults.sourceIpTtlMs };
}
