import { z } from 'zod';
import { hostPortSchema, millisecondsSchema, objectNameSchema } from './fields.js';

/** Protocols a virtual server can speak; the traffic layer says which ones it runs today. */
export const virtualServerProtocols = ['tcp', 'tls', 'http', 'https'] as const;

/** A virtual server: a listener on the edge that sends its sessions to a pool. */
export const virtualServerSchema = z
  .strictObject({
    name: objectNameSchema,
    protocol: z.enum(virtualServerProtocols).default('tcp'),
    listen: hostPortSchema,
    pool: objectNameSchema.meta({ description: 'Name of the pool that serves this listener.' }),
    enabled: z.boolean().default(true),
    connect_timeout_ms: millisecondsSchema(1, 600_000)
      .default(10_000)
      .meta({ description: 'Give up connecting to a node after this long.' }),
    idle_timeout_ms: millisecondsSchema(0, 86_400_000)
      .default(300_000)
      .meta({ description: 'Close a session idle this long; 0 = never.' }),
  })
  .meta({ description: 'A virtual server.' });

/** A validated virtual server. */
export type VirtualServer = z.output<typeof virtualServerSchema>;
/** A virtual server protocol. */
export type VirtualServerProtocol = (typeof virtualServerProtocols)[number];
