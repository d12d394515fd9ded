import type { Clock } from '../core/index.js';
import type { Balancer, BalancerAlgorithm, RandomSource } from './balancers/index.js';
import type { Dialer } from './dialer.js';
import type { DnsDiscoverySpec } from './discovery/index.js';
import type { HealthState, MonitorSpec, PassiveHealthOptions } from './health/index.js';
import type { UpstreamTls } from './upstream-tls.js';

/** A node's administrative state: draining nodes finish sessions but get no new ones. */
export type NodeState = 'active' | 'draining' | 'disabled';

/** One upstream of a pool. */
export interface PoolNode {
  readonly address: string;
  readonly weight: number;
  readonly state: NodeState;
  /** Most picks in progress on the node at once; 0 = no limit; default the pool's nodeMaxConnections. */
  readonly maxConnections?: number | undefined;
  /** Priority group (higher is used first) when the pool has priority lists; default 1. */
  readonly priority?: number | undefined;
}

/** What a caller may tell pick(): nodes to skip and persistence key material. */
export interface PoolPickOptions {
  /** Addresses of nodes that already failed this request. */
  readonly exclude?: ReadonlySet<string> | undefined;
  /** Client IP, for source-IP persistence. */
  readonly clientIp?: string | undefined;
  /** The request's `Cookie` header (or just the persistence cookie's value). */
  readonly cookie?: string | undefined;
  /** The request came over TLS: a persistence cookie set for it is `Secure`. */
  readonly secure?: boolean | undefined;
  /** The pick is for one HTTP request (counted by outcome), not a session; default false. */
  readonly request?: boolean | undefined;
}

/** How a picked session ended, reported once through PoolPick.done(). */
export interface PickOutcome {
  readonly ok: boolean;
  /** Why it failed, when the node is to blame; feeds passive health. */
  readonly kind?: 'connect' | 'reset' | 'timeout' | 'status_5xx' | undefined;
  /** Time to the start of the response (for TCP: to connect); used when ok. */
  readonly responseMs?: number | undefined;
  /** Shown as the node's last error in status. */
  readonly error?: string | undefined;
  /** HTTP: the status the node answered, counted by class in the node's figures. */
  readonly status?: number | undefined;
}

/** A node chosen for one session; `done` must be called exactly once (later calls are ignored). */
export interface PoolPick {
  readonly node: PoolNode;
  /** A whole `Set-Cookie` header value to add to the response (cookie persistence). */
  readonly setCookie?: string;
  done(outcome: PickOutcome): void;
}

/** What a pool does when every node is down: try them all anyway, or refuse. */
export type PanicMode = 'all' | 'none';

/** Session persistence: a cookie naming the node, or a table of client IPs. */
export type PersistenceOptions =
  | {
      readonly type: 'cookie';
      readonly cookieName: string;
      /** Max-Age of the cookie; undefined = a browser-session cookie. */
      readonly ttlMs?: number | undefined;
      /** Secret that keys the node tokens (shared by the edges of an HA set); see nodeToken. */
      readonly key?: Uint8Array | undefined;
    }
  | {
      readonly type: 'source_ip';
      /** Sliding lifetime of a client's mapping. */
      readonly ttlMs: number;
      /** Most clients remembered; default 100 000. */
      readonly maxEntries?: number | undefined;
    };

/** Something worth logging that happened to a pool. */
export type PoolEvent =
  | {
      readonly type: 'node_health';
      readonly pool: string;
      readonly address: string;
      readonly health: HealthState;
      /** `monitor:<name>` or `passive`. */
      readonly source: string;
      readonly detail: string | undefined;
    }
  | {
      readonly type: 'panic';
      readonly pool: string;
      readonly panic: boolean;
      readonly mode: PanicMode;
    }
  | {
      readonly type: 'discovery';
      readonly pool: string;
      readonly added: readonly string[];
      readonly removed: readonly string[];
    }
  | { readonly type: 'discovery_error'; readonly pool: string; readonly error: Error }
  /** The pool speaks TLS to its nodes without verifying their certificates (`tls.verify: false`). */
  | { readonly type: 'tls_unverified'; readonly pool: string; readonly warning: string }
  /** SRV targets left out of the set (`target: reason`), when that list changes. */
  | {
      readonly type: 'discovery_skipped';
      readonly pool: string;
      readonly skipped: readonly string[];
    };

/** How to build a pool; everything but name and nodes is optional. */
export interface PoolOptions {
  readonly name: string;
  /** Connector group that reaches the nodes; absent means the edge dials them itself. */
  readonly via?: string | undefined;
  /** Nodes from configuration; discovery adds more. */
  readonly nodes: readonly PoolNode[];
  /** Default: round_robin. Ignored when `balancer` is given. */
  readonly algorithm?: BalancerAlgorithm | undefined;
  readonly balancer?: Balancer | undefined;
  /** Default: all. */
  readonly panic?: PanicMode | undefined;
  /**
   * Slow start: a node coming back up or added to the running pool takes a share growing
   * linearly from 5 % to its full weight over this many ms. Default 0 = off.
   */
  readonly slowStartMs?: number | undefined;
  /**
   * Most picks in progress (http: requests, tcp/tls: sessions) on each node at once; a node at
   * its limit is not picked. Default 0 = no limit; a node's own maxConnections overrides it.
   */
  readonly nodeMaxConnections?: number | undefined;
  /**
   * Priority lists (vTM's `priority_enabled`/`priority_nodes`): only the highest-priority nodes
   * take new sessions while at least this many of them are available (active, not down); with
   * fewer, the next lower groups join until this many are in use. Default undefined = off.
   */
  readonly priorityNodes?: number | undefined;
  /** How long a pick may wait in the queue when every node is at its limit; default 0 = no queue. */
  readonly queueTimeoutMs?: number | undefined;
  /** Most waiters in the queue; default 1024. */
  readonly queueMax?: number | undefined;
  /**
   * tcp/tls: a client that half-closes (FIN) while queued leaves the queue and is closed, like
   * HAProxy's `option abortonclose`. Default false: it keeps its place, and what it sent and its
   * FIN reach the node (batch clients half-close after their request). A reset always leaves.
   */
  readonly abortOnClose?: boolean | undefined;
  /** Default: enabled with 5 failures, 5xx not counted, 30 s ejection; false disables. */
  readonly passiveHealth?: PassiveHealthOptions | false | undefined;
  readonly persistence?: PersistenceOptions | undefined;
  /** TLS to the nodes (http/https virtual servers); absent = plain TCP. */
  readonly tls?: UpstreamTls | undefined;
  /** Active monitors; they need `dialer`. */
  readonly monitors?: readonly MonitorSpec[] | undefined;
  readonly dialer?: Dialer | undefined;
  /**
   * The monitors run elsewhere (on a connector, for `via` pools) and report through
   * Pool.recordCheck(); the pool then only combines their results. Default false.
   */
  readonly monitorsRunRemotely?: boolean | undefined;
  readonly discovery?: DnsDiscoverySpec | undefined;
  /**
   * Discovery runs elsewhere (on a connector, for `via` pools) and reports through
   * Pool.setDiscoveredNodes(); the pool resolves nothing itself and keeps the carried-over set
   * across reloads. Default false.
   */
  readonly discoveryRunsRemotely?: boolean | undefined;
  /** Per-query DNS timeout; default 2000 ms. */
  readonly dnsQueryTimeoutMs?: number | undefined;
  /** Default: the system clock. */
  readonly clock?: Clock | undefined;
  /** Default: Math.random (random balancer). */
  readonly random?: RandomSource | undefined;
  /** Receives health changes, panic changes and discovery results, for logs and metrics. */
  readonly onEvent?: ((event: PoolEvent) => void) | undefined;
}
