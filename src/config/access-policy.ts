import { z } from 'zod';
import { cidrSchema, descriptionSchema, objectNameSchema } from './fields.js';

/** How a user's client reaches the edge. */
export const clientTypes = ['browser', 'tcp_client', 'system'] as const;

/** What a matching access rule does. */
export const accessActions = ['allow', 'deny'] as const;

/** An optional list condition of at most `max` entries. */
function listCondition<T extends z.ZodType>(item: T, max: number, description: string) {
  return z.array(item).max(max).optional().meta({ description });
}

const identityText = z
  .string()
  .min(1)
  .max(320)
  .regex(/^[^\s]+$/, { error: 'must be an email address or subject without spaces' });

const groupText = z.string().min(1).max(256);

/** When an access rule applies; every condition given must hold, an empty one matches all. */
const accessConditionsSchema = z
  .strictObject({
    users: listCondition(identityText, 1000, "The user's email or subject is one of these."),
    groups: listCondition(groupText, 1000, 'The user is in at least one of these groups.'),
    applications: listCondition(
      objectNameSchema,
      1000,
      'The destination matched one of these applications.',
    ),
    virtual_servers: listCondition(
      objectNameSchema,
      1000,
      'The request came through one of these virtual servers.',
    ),
    client_types: listCondition(
      z.enum(clientTypes, {
        error: `must be one of ${clientTypes.map((t) => `"${t}"`).join(', ')}`,
      }),
      clientTypes.length,
      'The client is one of these types.',
    ),
    source_cidrs: listCondition(
      cidrSchema,
      1000,
      "The client's address is in one of these networks.",
    ),
  })
  .meta({ description: 'Conditions that must all hold for the rule to apply.' });

/** One access rule; rules are evaluated in document order, the first match decides. */
export const accessPolicySchema = z
  .strictObject({
    name: objectNameSchema,
    description: descriptionSchema.optional(),
    action: z
      .enum(accessActions, { error: 'must be "allow" or "deny"' })
      .meta({ description: 'Allow or deny the session when the rule matches.' }),
    conditions: accessConditionsSchema.default({}),
  })
  .meta({ description: 'An access policy rule.' });

/** A validated access rule. */
export type AccessPolicy = z.output<typeof accessPolicySchema>;
/** The conditions of an access rule. */
export type AccessConditions = z.output<typeof accessConditionsSchema>;
/** A client type an access rule may name. */
export type ClientType = (typeof clientTypes)[number];
/** An access rule's action. */
export type AccessAction = (typeof accessActions)[number];
