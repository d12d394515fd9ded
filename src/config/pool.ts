import { z } from 'zod';
import { hostPortSchema, objectNameSchema } from './fields.js';

/** Load-balancing algorithms a pool can use. */
export const balancingAlgorithms = [
  'round_robin',
  'weighted_round_robin',
  'least_connections',
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
    nodes: z.array(poolNodeSchema).min(1, { error: 'a pool needs at least one node' }),
  })
  .meta({ description: 'A pool of backend nodes.' });

/** A validated pool node. */
export type PoolNode = z.output<typeof poolNodeSchema>;
/** A validated pool. */
export type Pool = z.output<typeof poolSchema>;
/** A load-balancing algorithm name. */
export type BalancingAlgorithm = (typeof balancingAlgorithms)[number];
