import { z } from 'zod';
import { headerNameSchema, headerValueSchema, pathPrefixSchema } from './fields.js';
import { templateProblem } from './rule-template.js';

/** Adds the problem of a `{variable}` template as an issue. */
function checkTemplate(value: string, ctx: z.RefinementCtx): void {
  const problem = templateProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
}

const header = z.strictObject({ name: headerNameSchema, value: headerValueSchema });

/** A request header's value may use `{variable}`s (see rule-template.ts). */
const templatedHeader = z.strictObject({
  name: headerNameSchema,
  value: headerValueSchema
    .superRefine(checkTemplate)
    .meta({ description: 'An HTTP header value; may use {variables}, "{{" for a literal "{".' }),
});

const rewritePath = z
  .strictObject({
    from: pathPrefixSchema.meta({ description: 'The path prefix to replace.' }),
    to: pathPrefixSchema.meta({ description: 'What replaces it.' }),
  })
  .meta({ description: 'Replace a path prefix before the request goes upstream.' });

const redirect = z
  .strictObject({
    status: z
      .union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)], {
        error: 'must be 301, 302, 303, 307 or 308',
      })
      .default(302),
    location: z
      .string()
      .min(1)
      .max(4096)
      .regex(/^[^\s]+$/, { error: 'must be a URL or path without spaces' })
      .superRefine(checkTemplate)
      .meta({
        description:
          'Where to; may use {scheme} {host} {port} {path} {query} {request_uri} {client_ip}, "{{" for a literal "{".',
      }),
  })
  .meta({ description: 'Answer with a redirect; ends processing.' });

const deny = z
  .strictObject({
    status: z.number().int().min(400).max(599).default(403),
    body: z.string().max(65536).default(''),
  })
  .meta({ description: 'Answer with an error status; ends processing.' });

/** The action kinds that end processing: nothing after them runs. */
export const terminalActions = ['redirect', 'deny'] as const;

/**
 * An object holding exactly one of `shape`'s keys. A misspelt key is reported once, as
 * unknown, rather than also as a missing action.
 */
function oneKey<T extends z.ZodRawShape>(shape: T, what: string) {
  const keys = Object.keys(shape);
  return z
    .strictObject(shape)
    .refine((action) => Object.keys(action).length === 1, {
      error: `must hold exactly one action: one of ${keys.join(', ')}`,
      // Also when a field is wrong, so every problem is reported at once.
      when: (payload) =>
        typeof payload.value === 'object' &&
        payload.value !== null &&
        !payload.issues.some((i) => i.code === 'unrecognized_keys' && (i.path?.length ?? 0) === 0),
    })
    .meta({ minProperties: 1, maxProperties: 1, description: what });
}

const responseShape = {
  set_header: header.optional().meta({ description: 'Set a header, replacing any value.' }),
  append_header: header.optional().meta({ description: 'Add a header, keeping other values.' }),
  remove_header: headerNameSchema.optional().meta({ description: 'Remove a header.' }),
};

/** One step of a rule applied to a request before it goes upstream. */
export type RequestAction =
  | { readonly set_header: { readonly name: string; readonly value: string } }
  | { readonly append_header: { readonly name: string; readonly value: string } }
  | { readonly remove_header: string }
  | { readonly rewrite_path: { readonly from: string; readonly to: string } }
  | {
      readonly redirect: {
        readonly status: 301 | 302 | 303 | 307 | 308;
        readonly location: string;
      };
    }
  | { readonly deny: { readonly status: number; readonly body: string } };

/** One step of a rule applied to a response before it goes to the client. */
export type ResponseAction = Extract<
  RequestAction,
  { set_header: unknown } | { append_header: unknown } | { remove_header: unknown }
>;

/** A request action: exactly one of its keys. */
export const requestActionSchema = oneKey(
  {
    ...responseShape,
    set_header: templatedHeader
      .optional()
      .meta({ description: 'Set a header, replacing any value.' }),
    append_header: templatedHeader
      .optional()
      .meta({ description: 'Add a header, keeping other values.' }),
    rewrite_path: rewritePath.optional(),
    redirect: redirect.optional(),
    deny: deny.optional(),
  },
  'One request action.',
  // The partial object holds exactly one key (checked above), which is what the union says.
).transform((action) => action as RequestAction);

/** A response action: exactly one of its keys. */
export const responseActionSchema = oneKey(responseShape, 'One response action.').transform(
  (action) => action as ResponseAction,
);
