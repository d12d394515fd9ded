import type { PoolEntry } from './pool-node.js';

/** A node's priority group; configured nodes default to 1, discovered nodes are 1. */
export const DEFAULT_PRIORITY = 1;

/** What priority lists leave in use: the nodes, and the lowest priority among them. */
export interface PriorityGroupsInUse {
  readonly nodes: readonly PoolEntry[];
  /** Nodes of this priority or higher are in a group in use; undefined when no node is available. */
  readonly floor: number | undefined;
}

/** The priority of an entry, as the groups count it. */
export function priorityOf(entry: PoolEntry): number {
  return entry.meta.priority ?? DEFAULT_PRIORITY;
}

/**
 * vTM's priority lists: from the highest priority down, whole groups of available nodes are
 * taken until at least `priorityNodes` are in use or no group is left. `available` keeps its
 * order in the result, so balancers see the nodes as configured.
 */
export function priorityGroupsInUse(
  available: readonly PoolEntry[],
  priorityNodes: number,
): PriorityGroupsInUse {
  const counts = new Map<number, number>();
  for (const entry of available) {
    const p = priorityOf(entry);
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  let floor: number | undefined;
  let inUse = 0;
  for (const p of [...counts.keys()].sort((a, b) => b - a)) {
    floor = p;
    inUse += counts.get(p)!;
    if (inUse >= priorityNodes) break;
  }
  if (floor === undefined) return { nodes: available, floor };
  const lowest = floor;
  return { nodes: available.filter((e) => priorityOf(e) >= lowest), floor };
}
