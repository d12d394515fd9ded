import { z } from 'zod';
import { hostPatternSchema, objectNameSchema, pathPrefixSchema } from './fields.js';

/** One routing entry: requests (or TLS connections by SNI) that match go to `pool`. */
export const routeSchema = z
  .strictObject({
    host: hostPatternSchema.optional().meta({
      description: 'Host header (http/https) or SNI name (tls); "*.domain" for a domain.',
    }),
    path_prefix: pathPrefixSchema
      .optional()
      .meta({ description: 'http/https only: the request path starts with this.' }),
    pool: objectNameSchema.meta({ description: 'The pool that serves matching requests.' }),
  })
  .refine((route) => route.host !== undefined || route.path_prefix !== undefined, {
    error:
      "a route needs a host or a path_prefix to match (the virtual server's pool serves the rest)",
    when: (payload) => typeof payload.value === 'object' && payload.value !== null,
  })
  .meta({ description: 'A route; the first that matches wins.' });

/** TLS protocol versions a server may require as its minimum. */
export const tlsVersions = ['TLSv1.2', 'TLSv1.3'] as const;

/** ALPN protocols an https virtual server may offer. */
export const alpnProtocols = ['h2', 'http/1.1'] as const;

/** TLS termination settings of an https virtual server. */
export const virtualServerTlsSchema = z
  .strictObject({
    certificates: z
      .array(objectNameSchema)
      .min(1)
      .max(256)
      .refine((names) => new Set(names).size === names.length, {
        error: 'lists a certificate twice; name each once',
      })
      .meta({
        description:
          'Certificates to present, chosen by SNI from their names; the first is the default.',
      }),
    min_version: z.enum(tlsVersions).default('TLSv1.2'),
    alpn: z
      .array(z.enum(alpnProtocols))
      .min(1)
      .default(['h2', 'http/1.1'])
      .meta({ description: 'Application protocols offered, in order of preference.' }),
  })
  .meta({ description: 'TLS termination (https only).' });

/** Limits on a request's head; larger requests get 431. */
export const limitsSchema = z
  .strictObject({
    max_header_bytes: z
      .number()
      .int()
      .min(1024)
      .max(1_048_576)
      .default(16_384)
      .meta({ description: 'Largest request head (request line and headers) in bytes.' }),
    max_headers: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(100)
      .meta({ description: 'Most header fields in a request.' }),
  })
  .meta({ description: 'Request head limits (http/https).' });

/** PROXY protocol header a tcp or tls virtual server sends its nodes (HAProxy's send-proxy). */
export const proxyProtocolSchema = z
  .enum(['none', 'v1', 'v2'])
  .default('none')
  .meta({
    description:
      "tcp/tls: send the node a PROXY protocol header (v1 text, v2 binary) with the client's " +
      'address and the address it connected to, before any client byte. The node must expect it.',
  });

/** A validated route. */
export type Route = z.output<typeof routeSchema>;
/** Validated TLS termination settings. */
export type VirtualServerTls = z.output<typeof virtualServerTlsSchema>;
/** Validated request limits. */
export type Limits = z.output<typeof limitsSchema>;
