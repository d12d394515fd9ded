import { z } from 'zod';
import { headerValueSchema } from './fields.js';

/**
 * Statuses an http/https virtual server answers with its own error body: the client's request
 * refused (400, 405, 408, 414, 431, 501, 505) or the upstream failing (502, 503, 504). A page for
 * any other status could never be served, so it is refused rather than silently ignored.
 */
export const edgeErrorStatuses = [
  '400',
  '405',
  '408',
  '414',
  '431',
  '501',
  '502',
  '503',
  '504',
  '505',
] as const;

/** Largest custom error page body in bytes (UTF-8), as HAProxy's errorfile limits to a buffer. */
export const MAX_ERROR_PAGE_BYTES = 65_536;

/** How much an error body tells the client: `minimal` hides the network, `full` explains. */
export const errorDetailSchema = z
  .enum(['minimal', 'full'])
  .default('minimal')
  .meta({
    description:
      'http/https: body of the 502/503/504 (and other upstream failure) answers. minimal = status, ' +
      'error code and request id only; full = the message naming nodes, pools and groups, for ' +
      'development. The full message is always in the edge log with the request id.',
  });

const errorPageSchema = z
  .strictObject({
    body: z
      .string()
      .refine((body) => new TextEncoder().encode(body).length <= MAX_ERROR_PAGE_BYTES, {
        error: `is larger than ${MAX_ERROR_PAGE_BYTES} bytes; serve a smaller page (link to large assets)`,
      })
      .meta({
        description:
          'The page, sent as given; every "{request_id}" is replaced by the request id. ' +
          'Usually valueFrom a file.',
      }),
    content_type: headerValueSchema
      .default('text/html; charset=utf-8')
      .meta({ description: 'Content-Type of the page.' }),
  })
  .meta({ description: 'A custom error page.' });

const allowed: ReadonlySet<string> = new Set(edgeErrorStatuses);

/** Custom error pages of an http/https virtual server, by status (vTM error_file, HAProxy errorfile). */
export const errorPagesSchema = z
  // The enum is for the JSON Schema (editors complete the keys); superRefine says why a key fails.
  .record(z.string().meta({ enum: [...edgeErrorStatuses] }), errorPageSchema)
  .superRefine((pages, ctx) => {
    for (const status of Object.keys(pages)) {
      if (allowed.has(status)) continue;
      ctx.addIssue({
        code: 'custom',
        path: [status],
        message:
          `is not a status Postern answers with its own error page; ` +
          `use one of ${edgeErrorStatuses.join(', ')}`,
      });
    }
  })
  .meta({
    description:
      'http/https: pages served instead of the built-in error body, keyed by status ' +
      `(${edgeErrorStatuses.join(', ')}).`,
  });

/** A validated custom error page. */
export type ErrorPage = z.output<typeof errorPageSchema>;
/** How much an error body tells the client. */
export type ErrorDetail = z.output<typeof errorDetailSchema>;
