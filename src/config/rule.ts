import { z } from 'zod';
import {
  cidrSchema,
  descriptionSchema,
  headerNameSchema,
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

/** Reports a field test that does not give exactly one of `tests`. */
function exactlyOne(tests: readonly string[]) {
  return (m: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    const given = tests.filter((t) => m[t] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `needs exactly one of ${tests.join(', ')} next to name`,
      });
  };
}

const matchValue = z.string().max(8192).optional().meta({ description: 'Equals this value.' });
const matchPresent = z
  .boolean()
  .optional()
  .meta({ description: 'true: it is present; false: it is absent.' });

/** A test on a named field: exactly one of `value` or `present`. */
function fieldMatch(nameSchema: z.ZodType<string>, what: string) {
  return z
    .strictObject({
      name: nameSchema.meta({ description: `The ${what} name.` }),
      value: matchValue,
      present: matchPresent,
    })
    .superRefine(exactlyOne(['value', 'present']));
}

const headerMatch = z
  .strictObject({
    name: headerNameSchema,
    value: matchValue,
    prefix: z.string().min(1).max(8192).optional().meta({ description: 'Starts with this.' }),
    present: matchPresent,
  })
  .superRefine(exactlyOne(['value', 'prefix', 'present']));

const cookieNameSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, { error: 'must be a cookie name (a token)' });

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
    header: headerMatch.optional().meta({
      description: 'A request header: some field equals value, starts with prefix, or present.',
    }),
    query: fieldMatch(z.string().min(1).max(256), 'query parameter').optional().meta({
      description: 'A query parameter (decoded): some occurrence equals value, or present.',
    }),
    cookie: fieldMatch(cookieNameSchema, 'cookie')
      .optional()
      .meta({ description: 'A request cookie: equals value, or present.' }),
    client_ip: z
      .array(cidrSchema)
      .min(1)
      .max(1024)
      .optional()
      .meta({ description: 'The client address is in one of these networks.' }),
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
