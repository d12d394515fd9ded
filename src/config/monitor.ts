import { z } from 'zod';
import { descriptionSchema, millisecondsSchema, objectNameSchema } from './fields.js';
import { expectStatusSchema } from './status-spec.js';

/** Kinds of active health check. */
export const monitorTypes = ['tcp', 'http', 'https'] as const;

/** A pattern that must compile as a JavaScript regular expression. */
const regexSchema = z
  .string()
  .max(1024)
  .superRefine((value, ctx) => {
    try {
      new RegExp(value);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: `is not a valid regular expression: ${String(err)}`,
      });
    }
  });

/** An active health check that pools run against each of their nodes. */
export const monitorSchema = z
  .strictObject({
    name: objectNameSchema,
    description: descriptionSchema.optional(),
    type: z
      .enum(monitorTypes)
      .default('tcp')
      .meta({ description: 'tcp: connect only; http/https: send a GET and check the answer.' }),
    path: z
      .string()
      .max(2048)
      .regex(/^\/[^\s#]*$/, { error: 'must start with "/" and hold no spaces or "#"' })
      .default('/')
      .meta({ description: 'http(s) only: the path (and query) to request.' }),
    host_header: z
      .string()
      .max(255)
      .regex(/^[^\s]+$/, { error: 'must be a host name (and port), without spaces' })
      .optional()
      .meta({ description: 'http(s) only: the Host header; default the node address.' }),
    expect_status: expectStatusSchema,
    body_match: regexSchema
      .optional()
      .meta({ description: 'http(s) only: a regular expression the response body must match.' }),
    delay_ms: millisecondsSchema(100, 3_600_000)
      .default(5000)
      .meta({ description: 'Time between two checks of a node.' }),
    timeout_ms: millisecondsSchema(1, 600_000)
      .default(2000)
      .meta({ description: 'A check that takes longer fails.' }),
    failures: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .meta({ description: 'Consecutive failed checks before a node is marked down.' }),
    successes: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(2)
      .meta({ description: 'Consecutive passed checks before a down node is marked up.' }),
    verify_tls: z.boolean().optional().meta({
      description:
        "https only: verify the node's certificate. Default: the pool's tls.verify on a pool with tls, else false.",
    }),
  })
  .superRefine((m, ctx) => {
    if (m.type !== 'https' && m.verify_tls !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['verify_tls'],
        message: 'applies to https monitors only; set type: https or remove it',
      });
    }
    if (m.type !== 'tcp') return;
    // A tcp monitor only connects: an http option on it would be silently ignored.
    const given = [
      m.path !== '/' ? 'path' : undefined,
      m.host_header !== undefined ? 'host_header' : undefined,
      m.body_match !== undefined ? 'body_match' : undefined,
    ];
    for (const key of given) {
      if (key === undefined) continue;
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: 'applies to http and https monitors only; set type: http (or https) or remove it',
      });
    }
  })
  .meta({ description: 'An active health monitor.' });

/** A validated monitor. */
export type Monitor = z.output<typeof monitorSchema>;
/** A monitor type. */
export type MonitorType = (typeof monitorTypes)[number];
