import { z } from 'zod';
import { cidrSchema, objectIdSchema, objectNameSchema, timestampSchema } from './fields.js';

const maxUsage = z
  .number()
  .int()
  .min(1)
  .max(100000)
  .meta({ description: 'How many connectors may enroll with this key.' });
const sourceCidrs = z
  .array(cidrSchema)
  .min(1)
  .max(256)
  .meta({ description: 'Only enrollments from these networks are accepted.' });

/**
 * A provisioning key as the admin API shows it. The secret is never part of the object: it is
 * shown once at creation and only its hash is stored.
 */
export const provisioningKeySchema = z
  .strictObject({
    id: objectIdSchema,
    group: objectNameSchema.meta({ description: 'The connector group the key enrolls into.' }),
    max_usage: maxUsage.default(100),
    usage_count: z.number().int().min(0),
    expires_at: timestampSchema.optional(),
    source_cidrs: sourceCidrs.optional(),
    enabled: z.boolean().default(true),
    revoked: z.boolean(),
    created_at: timestampSchema,
  })
  .meta({ description: 'A provisioning key (without its secret).' });

/** The fields an administrator supplies to create a provisioning key. */
export const provisioningKeyCreateSchema = z.strictObject({
  group: objectNameSchema,
  max_usage: maxUsage.default(100),
  expires_at: timestampSchema.optional(),
  source_cidrs: sourceCidrs.optional(),
  enabled: z.boolean().default(true),
});

/** A provisioning key as the admin API shows it. */
export type ProvisioningKey = z.output<typeof provisioningKeySchema>;
/** Validated input for creating a provisioning key. */
export type ProvisioningKeyCreate = z.output<typeof provisioningKeyCreateSchema>;
