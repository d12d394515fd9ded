import type { Clock } from '../core/index.js';
import type { BalancerNode } from './balancers/index.js';
import { NO_WEIGHTS, type NodeWeights } from './discovery/index.js';
import {
  countsAsFailure,
  type HealthState,
  type MonitorState,
  type PassiveHealthOptions,
} from './health/index.js';
import type { SourceIpTable } from './persistence/index.js';
import { NodeFigures } from './pool-node-figures.js';
import { PoolQueue } from './pool-queue.js';
import type { NodeState, PickOutcome, PoolNode } from './pool-options.js';

/** Weight of a new response time in the moving average. */
const RESPONSE_ALPHA = 0.3;

/** Failed sessions count as this slow in the response-time average, so fast failures never win. */
const FAILURE_PENALTY_MS = 10_000;

/** Where slow start begins, as a part of the node's full weight (HAProxy starts near 5 %). */
export const SLOW_START_FLOOR = 0.05;

/** What a pool generation tells its entries for slow start: time and the ramp's length. */
export interface SlowStart {
  readonly clock: Clock;
  /** The ramp's length in ms; 0 = slow start off. */
  readonly ms: number;
}

/**
 * What a pool has learned about one node address. Shared by every configuration generation of
 * the pool, so in-flight counts, health and averages survive a reload.
 */
export class NodeRuntime {
  /** Sessions picked and not yet done, across generations. */
  active = 0;
  picks = 0;
  failures = 0;
  consecutiveFailures = 0;
  lastError: string | undefined = undefined;
  lastErrorAt: number | undefined = undefined;
  /** Exponentially weighted moving average of response times. */
  responseMs: number | undefined = undefined;
  /** Monotonic ms until which passive health keeps the node out; 0 = not ejected. */
  ejectedUntil = 0;
  ejections = 0;
  /**
   * Gone from the in-charge generation's configuration and discovery, kept while sessions
   * finish: the last done() of such a node, in any generation, triggers a refresh that drops it.
   */
  removed = false;
  /** Active monitor states by monitor name. */
  readonly monitors = new Map<string, MonitorState>();
  /** Requests, sessions and response times, for metrics and status. */
  readonly figures = new NodeFigures();
  /** Monotonic ms when slow start began; undefined when the node is not ramping. */
  rampFrom: number | undefined = undefined;
  /**
   * Whether the in-charge generation's last view let the node take new sessions (active, not
   * down); undefined before any view saw it. A change to true starts slow start.
   */
  inService: boolean | undefined = undefined;

  /**
   * The part of its full weight the node may take at monotonic `nowMs`: 1, or during slow
   * start of `durationMs` a line from SLOW_START_FLOOR to 1. The one place slow start is computed.
   */
  rampAt(nowMs: number, durationMs: number): number {
    const from = this.rampFrom;
    if (from === undefined) return 1;
    const done = durationMs <= 0 ? 1 : (nowMs - from) / durationMs;
    if (done >= 1) {
      this.rampFrom = undefined;
      return 1;
    }
    return SLOW_START_FLOOR + (1 - SLOW_START_FLOOR) * Math.max(0, done);
  }

  /**
   * Records how a session ended (the session no longer counts as active) and applies passive
   * health. Returns true when this outcome ejected the node (for `ejectMs`).
   */
  release(outcome: PickOutcome, passive: PassiveHealthOptions | false, clock: Clock): boolean {
    if (this.active > 0) this.active--;
    if (outcome.ok) {
      this.consecutiveFailures = 0;
      if (outcome.responseMs !== undefined) this.observe(outcome.responseMs);
      return false;
    }
    this.failures++;
    this.lastError = outcome.error ?? outcome.kind ?? 'failed';
    this.lastErrorAt = clock.now();
    if (outcome.kind === 'connect' || outcome.kind === 'reset' || outcome.kind === 'timeout') {
      this.observe(FAILURE_PENALTY_MS);
    }
    if (passive === false || !countsAsFailure(outcome.kind, passive)) return false;
    this.consecutiveFailures++;
    if (this.consecutiveFailures < passive.failures || this.ejectedUntil !== 0) return false;
    this.ejectedUntil = clock.monotonic() + passive.ejectMs;
    this.ejections++;
    return true;
  }

  /** Folds one response time into the moving average. */
  observe(ms: number): void {
    this.responseMs =
      this.responseMs === undefined
        ? ms
        : this.responseMs + RESPONSE_ALPHA * (ms - this.responseMs);
  }
}

/** Runtime state of a pool by name, carried from generation to generation. */
export class PoolRuntime {
  readonly name: string;
  /** Bumped on every change that affects which nodes may be picked. */
  version = 0;
  readonly nodes = new Map<string, NodeRuntime>();
  /** The last good node set from discovery; undefined when the pool has no discovery. */
  discovered: readonly string[] | undefined = undefined;
  /** Weights of the discovered nodes (SRV); an address without one weighs 1. */
  discoveredWeights: NodeWeights = NO_WEIGHTS;
  /** The discovery (type, name, port) that `discovered` came from. */
  discoveredFor: string | undefined = undefined;
  sourceIp: SourceIpTable | undefined = undefined;
  /** Earliest `ejectedUntil` of any node; Infinity when none is ejected. */
  nextEjectExpiry = Infinity;
  /** The generation whose monitors and discovery are in charge (the last one started). */
  owner: object | undefined = undefined;
  /** Whether the last refresh found the pool in panic, to report changes once. */
  panic = false;
  /** An in-charge view was built: configured nodes new from now on were added (slow start). */
  seeded = false;
  /** Discovery answered since its set was last reset. */
  discoveryAnswered = false;
  /** A view was built after discovery answered: discovered nodes new from now on were added. */
  discoverySeeded = false;
  /** Picks waiting for a node below its connection limit, across generations. */
  readonly queue = new PoolQueue();

  constructor(name: string) {
    this.name = name;
  }

  /** Ends ejections due by `nowMs`; returns the addresses that are back. */
  expireEjections(nowMs: number): string[] {
    const back: string[] = [];
    let next = Infinity;
    for (const [address, node] of this.nodes) {
      if (node.ejectedUntil === 0) continue;
      if (node.ejectedUntil > nowMs) {
        next = Math.min(next, node.ejectedUntil);
        continue;
      }
      node.ejectedUntil = 0;
      node.consecutiveFailures = 0;
      back.push(address);
    }
    this.nextEjectExpiry = next;
    this.version++;
    return back;
  }

  /** The runtime of `address`, created on first use. */
  node(address: string): NodeRuntime {
    let node = this.nodes.get(address);
    if (node === undefined) {
      node = new NodeRuntime();
      this.nodes.set(address, node);
    }
    return node;
  }
}

/** A node as one generation of a pool sees it: configuration plus shared runtime. */
export class PoolEntry implements PoolNode, BalancerNode {
  /** Health as of the pool's last refresh (monitors of this generation, passive ejection). */
  health: HealthState = 'unknown';

  constructor(
    readonly address: string,
    readonly weight: number,
    readonly state: NodeState,
    readonly rt: NodeRuntime,
    readonly meta: {
      readonly source: 'config' | 'discovery';
      /** Gone from configuration and discovery, kept only until its sessions finish. */
      readonly removed: boolean;
      /** Cookie persistence token; undefined without cookie persistence. */
      readonly token: string | undefined;
      /** Slow start of this generation; undefined when off. */
      readonly slowStart?: SlowStart | undefined;
      /** Most picks in progress at once; 0 or absent = no limit. */
      readonly maxConnections?: number | undefined;
      /** Priority group (higher first, with priority lists); absent = 1. */
      readonly priority?: number | undefined;
    },
  ) {}

  /** The node has as many picks in progress as its connection limit allows. */
  get atLimit(): boolean {
    const max = this.meta.maxConnections;
    return max !== undefined && max > 0 && this.rt.active >= max;
  }

  /** Slow start: the part of its weight the node takes now (1 when not ramping). */
  get ramp(): number {
    const slowStart = this.meta.slowStart;
    if (this.rt.rampFrom === undefined || slowStart === undefined) return 1;
    return this.rt.rampAt(slowStart.clock.monotonic(), slowStart.ms);
  }

  /** The weight balancers use now: the configured weight scaled by slow start. */
  get effectiveWeight(): number {
    return this.weight * this.ramp;
  }

  get active(): number {
    return this.rt.active;
  }

  get responseMs(): number | undefined {
    return this.rt.responseMs;
  }
}
