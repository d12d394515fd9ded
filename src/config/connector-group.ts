import { z } from 'zod';
import { descriptionSchema, objectNameSchema } from './fields.js';

/** A connector group: the unit of enrollment, HA and routing for connectors. */
export const connectorGroupSchema = z
  .strictObject({
    name: objectNameSchema,
    description: descriptionSchema.optional(),
    auto_delete_after_days: z.number().int().min(1).max(3650).optional().meta({
      description: 'Delete connectors of this group that stayed disconnected this many days.',
    }),
  })
  .meta({ description: 'A connector group.' });

/** A validated connector group. */
export type ConnectorGroup = z.output<typeof connectorGroupSchema>;
