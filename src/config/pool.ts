import { z } from 'zod';
import { hostPortSchema, nameListSchema, objectNameSchema } from './fields.js';
import {
  discoverySchema,
  nodeMaxConnectionsSchema,
  panicModes,
  passiveHealthSchema,
  persistenceSchema,
  poolTlsSchema,
  priorityNodesSchema,
  prioritySchema,
  queueMaxSchema,
  queueTimeoutMsSchema,
  slowStartMsSchema,
} from './pool-options.js';

/** Load-balancing algorithms a pool can use. */
export const balancingAlgorithms = [
  'round_robin',
  'weighted_round_robin',
  'least_connections',
  'weighted_least_connections',
  'random',
  'fastest_response_time',
] as const;

/** Administrative node states: draining nodes take no new sessions, disabled nodes none at all. */
export const nodeStates = ['active', 'draining', 'disabled'] as const;

/** One backend of a pool. */
export const poolNodeSchema = z.strictObject({
  address: hostPortSchema,
  weight: z.number().int().min(1).max(100).default(1),
  state: z.enum(nodeStates).default('active'),
  max_connections: nodeMaxConnectionsSchema.optional().meta({
    description: "Overrides the pool's node_max_connections for this node; 0 = no limit.",
  }),
  priority: prioritySchema,
});

/** A pool: the backends a virtual server balances over, optionally reached through a group. */
export const poolSchema = z
  .strictObject({
    name: objectNameSchema,
    via: objectNameSchema.optional().meta({
      description:
        'Reach the nodes through a connector of this group; omitted = directly from the edge.',
    }),
    algorithm: z.enum(balancingAlgorithms).default('round_robin'),
    priority_enabled: z.boolean().default(false).meta({
      description:
        "Priority lists (vTM's priority_enabled): only the highest-priority nodes take new requests while at least priority_nodes of them are available.",
    }),
    priority_nodes: priorityNodesSchema,
    nodes: z
      .array(poolNodeSchema)
      .max(10_000)
      .default([])
      .meta({ description: 'Static nodes; may be empty when `discovery` finds them.' }),
    discovery: discoverySchema.optional(),
    monitors: nameListSchema('Active health monitors run against every node.'),
    passive_health: passiveHealthSchema.prefault({}),
    panic: z.enum(panicModes).default('all').meta({
      description:
        'When every node is down: "all" tries every node anyway, "none" refuses new sessions.',
    }),
    slow_start_ms: slowStartMsSchema,
    node_max_connections: nodeMaxConnectionsSchema.default(0).meta({
      description:
        'Most requests (http/https) or sessions (tcp/tls) in progress on each node at once; a node at its limit gets no new ones. 0 = no limit.',
    }),
    queue_timeout_ms: queueTimeoutMsSchema,
    queue_max: queueMaxSchema,
    abort_on_close: z.boolean().default(false).meta({
      description:
        "tcp/tls: a queued client that half-closes (FIN) leaves the queue and is closed (HAProxy's option abortonclose). Default false: it keeps its place and what it sent, with its FIN, reaches the node; a reset always leaves the queue.",
    }),
    persistence: persistenceSchema.optional(),
    tls: poolTlsSchema.optional(),
  })
  .refine(
    (pool) => !Array.isArray(pool.nodes) || pool.nodes.length > 0 || pool.discovery !== undefined,
    {
      path: ['nodes'],
      error: 'a pool needs at least one node, or discovery to find them',
      // Runs even when other fields are wrong, so every problem is reported at once.
      when: (payload) => typeof payload.value === 'object' && payload.value !== null,
    },
  )
  .meta({ description: 'A pool of backend nodes.' });

/** A validated pool node. */
export type PoolNode = z.output<typeof poolNodeSchema>;
/** A validated pool. */
export type Pool = z.output<typeof poolSchema>;
/** A load-balancing algorithm name. */
export type BalancingAlgorithm = (typeof balancingAlgorithms)[number];
