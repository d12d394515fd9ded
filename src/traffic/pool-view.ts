import { weightOf } from './discovery/index.js';
import { combineHealth, type HealthState } from './health/index.js';
import { nodeToken } from './persistence/index.js';
import { PoolEntry, type NodeRuntime, type PoolRuntime, type SlowStart } from './pool-node.js';
import type { PoolNode } from './pool-options.js';
import { priorityGroupsInUse } from './priority-groups.js';

/** What building a view needs from its pool generation. */
export interface PoolViewInput {
  readonly pool: string;
  /** Nodes from this generation's configuration. */
  readonly nodes: readonly PoolNode[];
  readonly rt: PoolRuntime;
  /** This generation is in charge: it may mark and forget nodes in the shared runtime. */
  readonly inCharge: boolean;
  /** Names of this generation's monitors: only they count towards health. */
  readonly monitors: readonly string[];
  /** Cookie persistence is on: entries get tokens. */
  readonly cookie: boolean;
  /** The secret keying those tokens, if any. */
  readonly cookieKey?: Uint8Array | undefined;
  /** Slow start of this generation; undefined when off. */
  readonly slowStart?: SlowStart | undefined;
  /** Connection limit of nodes without their own; 0 or absent = none. */
  readonly maxConnections?: number | undefined;
  /** Priority lists: available nodes to keep in use; undefined = off. */
  readonly priorityNodes?: number | undefined;
}

/** Health from this generation's monitors and passive ejection. */
export function healthOf(node: NodeRuntime, monitors: readonly string[]): HealthState {
  if (node.ejectedUntil !== 0) return 'down';
  if (monitors.length === 0) return 'unknown';
  return combineHealth(monitors.map((m) => node.monitors.get(m)?.health ?? 'unknown'));
}

/**
 * Starts slow start for a node that now takes new sessions and did not before: back up after
 * being down, enabled again, or added to the running pool (not one there when the pool first
 * ran, nor one of discovery's first answer).
 */
function noteService(entry: PoolEntry, rt: PoolRuntime, slowStart: SlowStart | undefined): void {
  const node = entry.rt;
  const inService = entry.state === 'active' && !entry.meta.removed && entry.health !== 'down';
  if (inService && node.inService !== true && slowStart !== undefined && slowStart.ms > 0) {
    const added = entry.meta.source === 'config' ? rt.seeded : rt.discoverySeeded;
    if (node.inService === false || added) node.rampFrom = slowStart.clock.monotonic();
  }
  node.inService = inService;
}

/**
 * The nodes of one pool generation as pick() needs them: configured nodes, then discovered ones,
 * then nodes gone from both that still carry sessions (draining). Rebuilt only when the shared
 * runtime's version moves, so pick() itself never filters or sorts.
 */
export class PoolView {
  readonly entries: readonly PoolEntry[];
  readonly byAddress: ReadonlyMap<string, PoolEntry>;
  readonly byToken: ReadonlyMap<string, PoolEntry>;
  /** Nodes used in panic: active and not removed, whatever their health. */
  readonly panicSet: readonly PoolEntry[];
  /**
   * Nodes taking new sessions normally: active, not removed, not down; with priority lists,
   * only those of the priority groups in use.
   */
  readonly eligible: readonly PoolEntry[];
  /**
   * With priority lists, the lowest priority in use: persistence to a node below it is not
   * honoured. Undefined when priority lists are off or no node is available.
   */
  readonly priorityFloor: number | undefined;
  /** Priority lists are on (available nodes to keep in use); undefined when off. */
  readonly priorityNodes: number | undefined;
  /** Some node has a connection limit: pick() must check it. */
  readonly limited: boolean;

  private constructor(entries: PoolEntry[], cookie: boolean, priorityNodes: number | undefined) {
    this.limited = entries.some((e) => (e.meta.maxConnections ?? 0) > 0);
    this.entries = entries;
    this.byAddress = new Map(entries.map((e) => [e.address, e]));
    this.byToken = new Map(cookie ? entries.map((e) => [e.meta.token!, e]) : []);
    this.panicSet = entries.filter((e) => e.state === 'active' && !e.meta.removed);
    const available = this.panicSet.filter((e) => e.health !== 'down');
    this.priorityNodes = priorityNodes;
    if (priorityNodes === undefined) {
      this.eligible = available;
      this.priorityFloor = undefined;
    } else {
      const inUse = priorityGroupsInUse(available, priorityNodes);
      this.eligible = inUse.nodes;
      this.priorityFloor = inUse.floor;
    }
  }

  /** An empty view, before the first build. */
  static empty(): PoolView {
    return new PoolView([], false, undefined);
  }

  /** Builds the view of `input.nodes` plus discovery over the shared runtime. */
  static build(input: PoolViewInput): PoolView {
    const { rt } = input;
    const entries: PoolEntry[] = [];
    const seen = new Set<string>();
    const add = (
      node: PoolNode,
      source: 'config' | 'discovery',
      removed: boolean,
      runtime: NodeRuntime,
    ) => {
      seen.add(node.address);
      if (input.inCharge) runtime.removed = removed;
      const token = input.cookie ? nodeToken(input.pool, node.address, input.cookieKey) : undefined;
      const entry = new PoolEntry(node.address, node.weight, node.state, runtime, {
        source,
        removed,
        token,
        slowStart: input.slowStart,
        maxConnections: node.maxConnections ?? input.maxConnections,
        priority: node.priority,
      });
      entry.health = healthOf(runtime, input.monitors);
      if (input.inCharge) noteService(entry, rt, input.slowStart);
      entries.push(entry);
    };
    for (const node of input.nodes) {
      if (!seen.has(node.address)) add(node, 'config', false, rt.node(node.address));
    }
    for (const address of rt.discovered ?? []) {
      if (seen.has(address)) continue;
      const weight = weightOf(rt.discoveredWeights, address);
      add({ address, weight, state: 'active' }, 'discovery', false, rt.node(address));
    }
    for (const [address, node] of rt.nodes) {
      if (seen.has(address)) continue;
      // Gone from configuration and discovery: drain what it still carries, then forget it.
      if (node.active > 0) add({ address, weight: 1, state: 'draining' }, 'discovery', true, node);
      else if (input.inCharge) rt.nodes.delete(address);
    }
    if (input.inCharge) {
      // Nodes seen from now on were added to a running pool (and ramp up); these were there.
      rt.seeded = true;
      if (rt.discoveryAnswered) rt.discoverySeeded = true;
    }
    return new PoolView(entries, input.cookie, input.priorityNodes);
  }
}
