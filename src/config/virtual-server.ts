import { z } from 'zod';
import { hostPortSchema, millisecondsSchema, nameListSchema, objectNameSchema } from './fields.js';
import { browserAccessSchema } from './browser-access.js';
import { errorDetailSchema, errorPagesSchema } from './error-pages.js';
import {
  limitsSchema,
  proxyProtocolSchema,
  routeSchema,
  virtualServerTlsSchema,
} from './virtual-server-options.js';

/** Protocols a virtual server can speak. */
export const virtualServerProtocols = ['tcp', 'tls', 'http', 'https'] as const;

const fields = z.strictObject({
  name: objectNameSchema,
  protocol: z.enum(virtualServerProtocols).default('tcp').meta({
    description: 'tcp; tls (passthrough, routed by SNI); http; https (TLS terminated here).',
  }),
  listen: hostPortSchema,
  pool: objectNameSchema.meta({ description: 'Name of the pool that serves this listener.' }),
  enabled: z.boolean().default(true),
  routes: z.array(routeSchema).max(1024).default([]).meta({
    description: 'http/https: by host and path prefix; tls: by SNI host. First match wins.',
  }),
  tls: virtualServerTlsSchema.optional(),
  access: browserAccessSchema.optional(),
  rules: nameListSchema('http/https: rules applied in order to each request and response.'),
  limits: limitsSchema.prefault({}),
  connect_timeout_ms: millisecondsSchema(1, 600_000)
    .default(10_000)
    .meta({ description: 'Give up connecting to a node after this long.' }),
  idle_timeout_ms: millisecondsSchema(0, 86_400_000)
    .default(300_000)
    .meta({ description: 'Close a session idle this long; 0 = never.' }),
  keepalive_timeout_ms: millisecondsSchema(0, 3_600_000).default(10_000).meta({
    description:
      'http/https: close a client connection (an HTTP/2 session with no open stream) idle this long between requests; 0 = no keep-alive.',
  }),
  request_timeout_ms: millisecondsSchema(0, 86_400_000).default(60_000).meta({
    description:
      'http/https: answer 408 when a request head has not arrived in this time, or a request body has had no read for this long; 0 = never.',
  }),
  forwarded_headers: z
    .boolean()
    .default(true)
    .meta({ description: 'http/https: add X-Forwarded-For, -Proto and -Host.' }),
  x_forwarded_for: z
    .enum(['replace', 'append'])
    .default('replace')
    .meta({
      description:
        "http/https: replace = X-Forwarded-For is the client's address and the client's Forwarded " +
        'and X-Real-IP are removed; append = the edge is behind a trusted proxy: extend its value.',
    }),
  error_detail: errorDetailSchema,
  error_pages: errorPagesSchema.optional(),
  proxy_protocol: proxyProtocolSchema,
  max_connections: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(0)
    .meta({
      description:
        'Most client connections open at once (an HTTP/2 session is one); a connection beyond ' +
        'it is closed on accept, unserved. 0 = unlimited. Per edge process.',
    }),
  retries: z
    .number()
    .int()
    .min(0)
    .max(5)
    .default(1)
    .meta({
      description:
        'Try another node up to this many times after a connect failure; http(s): also after ' +
        'a failed idempotent request. Never the same node twice.',
    }),
});

/** A virtual server: a listener on the edge that sends its sessions to a pool. */
export const virtualServerSchema = fields
  .superRefine(
    (vs, ctx) => {
      for (const problem of protocolProblems(vs)) {
        ctx.addIssue({ code: 'custom', ...problem });
      }
    },
    // Runs even when other fields are wrong, so every problem is reported at once.
    { when: (payload) => isRecord(payload.value) },
  )
  .meta({ description: 'A virtual server.' });

interface FieldProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * Fields that only some protocols use; setting them elsewhere is a mistake worth reporting.
 * The object may hold invalid fields here (see `when` above), so every access is guarded.
 */
function protocolProblems(vs: Record<string, unknown>): FieldProblem[] {
  const protocol = vs['protocol'];
  if (typeof protocol !== 'string') return [];
  const http = protocol === 'http' || protocol === 'https';
  const problems: FieldProblem[] = [];
  if (protocol === 'https' && vs['tls'] === undefined) {
    problems.push({ path: ['tls'], message: 'is required for https: name the certificates' });
  }
  if (protocol !== 'https' && vs['tls'] !== undefined) {
    problems.push({
      path: ['tls'],
      message: `applies to https only (protocol is ${protocol}); remove it or use https`,
    });
  }
  if (protocol !== 'https' && vs['access'] !== undefined) {
    problems.push({
      path: ['access'],
      message: `needs protocol https (browser sessions use Secure cookies), not ${protocol}`,
    });
  }
  const proxyProtocol = vs['proxy_protocol'];
  if (http && proxyProtocol !== undefined && proxyProtocol !== 'none') {
    problems.push({
      path: ['proxy_protocol'],
      message: `applies to tcp and tls only, not ${protocol}; http/https send X-Forwarded-For`,
    });
  }
  if (!http && vs['error_detail'] === 'full') {
    problems.push({
      path: ['error_detail'],
      message: `applies to http and https only, not ${protocol}`,
    });
  }
  if (!http && vs['error_pages'] !== undefined) {
    problems.push({
      path: ['error_pages'],
      message: `apply to http and https only, not ${protocol}`,
    });
  }
  const rules = vs['rules'];
  if (!http && Array.isArray(rules) && rules.length > 0) {
    problems.push({ path: ['rules'], message: `apply to http and https only, not ${protocol}` });
  }
  const routes = vs['routes'];
  if (!Array.isArray(routes)) return problems;
  routes.forEach((route: unknown, i) => {
    if (protocol === 'tcp') {
      problems.push({
        path: ['routes', i],
        message: 'tcp has nothing to route by; use protocol tls, http or https, or remove it',
      });
    } else if (protocol === 'tls' && isRecord(route) && route['path_prefix'] !== undefined) {
      problems.push({
        path: ['routes', i, 'path_prefix'],
        message: 'tls passthrough sees no paths; route by host (SNI) only',
      });
    }
  });
  return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A validated virtual server. */
export type VirtualServer = z.output<typeof virtualServerSchema>;
/** A virtual server protocol. */
export type VirtualServerProtocol = (typeof virtualServerProtocols)[number];
