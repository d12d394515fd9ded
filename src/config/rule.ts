import { z } from 'zod';
import {
  descriptionSchema,
  hostPatternSchema,
  objectNameSchema,
  pathPrefixSchema,
} from './fields.js';
import type { RequestAction } from './rule-action.js';
import { requestActionSchema, responseActionSchema, terminalActions } from './rule-action.js';

/** HTTP methods a rule condition may name. */
const methodSchema = z
  .string()
  .regex(/^[A-Z]{1,20}$/, { error: 'must be an upper-case HTTP method, e.g. GET' });

/** When a rule applies; every condition given must hold, none given = always. */
const ruleConditionSchema = z
  .strictObject({
    host: hostPatternSchema
      .optional()
      .meta({ description: 'The request host (without port); "*.example.com" for a domain.' }),
    path_prefix: pathPrefixSchema
      .optional()
      .meta({ description: 'The request path starts with this.' }),
    methods: z
      .array(methodSchema)
      .min(1)
      .max(32)
      .optional()
      .meta({ description: 'One of these methods.' }),
  })
  .meta({ description: 'Conditions that must all hold for the rule to apply.' });

/** A declarative request/response rule attached to http(s) virtual servers by name. */
export const ruleSchema = z
  .strictObject({
    name: objectNameSchema,
    description: descriptionSchema.optional(),
    when: ruleConditionSchema.default({}),
    request: z
      .array(requestActionSchema)
      .max(64)
      .default([])
      .meta({ description: 'Applied in order before the request goes upstream.' }),
    response: z
      .array(responseActionSchema)
      .max(64)
      .default([])
      .meta({ description: 'Applied in order to the response before it goes to the client.' }),
  })
  .superRefine((rule, ctx) => {
    // A step after redirect or deny could never run, which is always a mistake in the rule.
    const end = rule.request.findIndex(isTerminal);
    if (end >= 0 && end < rule.request.length - 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['request', end + 1],
        message: `never runs: the ${terminalKind(rule.request[end])} before it ends processing; move it first or remove it`,
      });
    }
  })
  .meta({ description: 'A request/response rule.' });

function isTerminal(action: RequestAction): boolean {
  return terminalActions.some((kind) => kind in action);
}

function terminalKind(action: RequestAction | undefined): string {
  return terminalActions.find((kind) => action !== undefined && kind in action) ?? 'action';
}

/** A validated rule. */
export type Rule = z.output<typeof ruleSchema>;
/** A validated rule condition. */
export type RuleCondition = z.output<typeof ruleConditionSchema>;
