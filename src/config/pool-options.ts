import { z } from 'zod';
import { hostPortSchema, millisecondsSchema } from './fields.js';
import { hostPortProblem } from './host-port.js';

/** DNS record types discovery can resolve. */
export const discoveryRecordTypes = ['A', 'AAAA', 'SRV'] as const;

const dnsName = z
  .string()
  .max(253)
  .regex(/^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/, {
    error: 'must be a DNS name, e.g. web.default.svc.cluster.local or _http._tcp.web',
  });

const resolverAddress = hostPortSchema.superRefine((value, ctx) => {
  // The resolver is asked before any name resolves, so it must be an address, not a name.
  if (hostPortProblem(value) === undefined && !/^(\[[0-9a-fA-F:.]+\]|[0-9.]+):/.test(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be an IP address and port, e.g. 10.96.0.10:53' });
  }
});

/** DNS service discovery (BuiltIn-DNS_Stateless semantics). */
export const dnsDiscoverySchema = z
  .strictObject({
    name: dnsName.meta({ description: 'The name to resolve, e.g. a headless Service.' }),
    type: z
      .enum(discoveryRecordTypes)
      .default('A')
      .meta({ description: 'A or AAAA (addresses, with `port`) or SRV (addresses and ports).' }),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .meta({ description: "The nodes' port; required for A/AAAA, overrides SRV ports." }),
    min_interval_ms: millisecondsSchema(1000, 86_400_000)
      .default(10_000)
      .meta({ description: "Resolve again after max(this, the answer's TTL)." }),
    resolver: resolverAddress
      .optional()
      .meta({ description: 'DNS server ip:port; default the system resolver.' }),
  })
  .refine((dns) => dns.type === 'SRV' || dns.port !== undefined, {
    path: ['port'],
    error: 'is required for A and AAAA lookups (SRV records carry their own ports)',
    when: (payload) => isRecord(payload.value),
  })
  .meta({ description: 'Discover nodes through DNS.' });

/** Where a pool's nodes come from besides its static `nodes`. */
export const discoverySchema = z
  .strictObject({ dns: dnsDiscoverySchema })
  .meta({ description: 'Service discovery; discovered nodes are added to `nodes`.' });

/** Passive health: nodes failing real traffic are taken out for a while. */
export const passiveHealthSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    failures: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(5)
      .meta({ description: 'Consecutive failed sessions before a node is ejected.' }),
    on_5xx: z
      .boolean()
      .default(false)
      .meta({ description: 'Count 5xx answers of http(s) virtual servers as failures.' }),
    eject_ms: millisecondsSchema(1000, 86_400_000)
      .default(30_000)
      .meta({ description: 'How long an ejected node gets no new sessions.' }),
  })
  .meta({ description: 'Passive health checking of real traffic.' });

/** What a pool does when every node is down. */
export const panicModes = ['all', 'none'] as const;

/** Slow start (HAProxy `slowstart`, vTM `slow_start`): ramp-up of a node back in service. */
export const slowStartMsSchema = millisecondsSchema(0, 3_600_000).default(0).meta({
  description:
    'A node back up after being down, or added to the running pool, takes a share growing linearly from 5 % to its full weight over this many ms; 0 = off.',
});

/** A per-node connection limit (HAProxy server `maxconn`, vTM `max_connections_per_node`). */
export const nodeMaxConnectionsSchema = z.number().int().min(0).max(1_000_000);

/** A node's priority (vTM nodes_table `priority`): higher groups are used first with priority lists. */
export const prioritySchema = z.number().int().min(0).max(65535).default(1).meta({
  description:
    'With priority_enabled, nodes of the highest priority take new requests; lower ones only while the higher have fewer than priority_nodes available.',
});

/** Available nodes a pool's priority lists keep in use (vTM `priority_nodes`). */
export const priorityNodesSchema = z.number().int().min(1).max(65535).default(1).meta({
  description:
    'With priority_enabled: lower-priority groups are added while the groups in use have fewer available nodes than this.',
});

/** How long a request waits for a node below its limit (HAProxy `timeout queue`, vTM `queue_timeout`). */
export const queueTimeoutMsSchema = millisecondsSchema(0, 3_600_000).default(0).meta({
  description:
    "When every usable node is at its connection limit, a request or session waits this long in the pool's FIFO queue for a free slot, then gets 503 (tcp/tls: is closed); 0 = no queue: refused at once.",
});

/** The pool queue's bound (vTM `max_queue_size`). */
export const queueMaxSchema = z.number().int().min(1).max(1_000_000).default(1024).meta({
  description:
    'Most requests and sessions waiting in the queue; more are refused at once with 503.',
});

const ttl = millisecondsSchema(1000, 30 * 86_400_000)
  .default(3_600_000)
  .meta({ description: 'Forget an affinity unused this long.' });

/** Session persistence: send a client back to the node it used before. */
export const persistenceSchema = z
  .discriminatedUnion(
    'type',
    [
      z.strictObject({
        type: z.literal('cookie'),
        cookie_name: z
          .string()
          .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, { error: 'must be a cookie name token' })
          .default('POSTERN_AFFINITY'),
        ttl_ms: ttl,
      }),
      z.strictObject({ type: z.literal('source_ip'), ttl_ms: ttl }),
    ],
    { error: 'type must be "cookie" or "source_ip"' },
  )
  .meta({ description: 'Session persistence by cookie (http/https) or client IP.' });

const pem = (what: string, pattern: RegExp) =>
  z
    .string()
    .max(1_048_576)
    .regex(pattern, { error: `must hold a PEM ${what}` });

const certificatesPem = pem(
  'certificate ("-----BEGIN CERTIFICATE-----")',
  /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/,
);

/** TLS versions a pool may require of its nodes at least. */
export const poolTlsVersions = ['TLSv1.2', 'TLSv1.3'] as const;

/** TLS from the edge to the pool's nodes (HAProxy `server ... ssl`, nginx `proxy_ssl_*`). */
export const poolTlsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Speak TLS to the nodes.' }),
    server_name: z.string().min(1).max(253).optional().meta({
      description:
        "SNI sent and name verified; default the node's host when it is a name (no SNI for IP addresses).",
    }),
    verify: z.boolean().default(true).meta({
      description: "Verify the nodes' certificates against ca (or the system CAs).",
    }),
    ca: certificatesPem.optional().meta({
      description:
        'PEM CA certificate(s) that sign the nodes; usually valueFrom a file. Default: the system CAs.',
    }),
    cert: certificatesPem.optional().meta({
      description: 'PEM client certificate presented to the nodes; needs key.',
    }),
    key: pem(
      'private key ("-----BEGIN PRIVATE KEY-----")',
      /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (RSA |EC )?PRIVATE KEY-----/,
    )
      .optional()
      .meta({ description: 'PEM private key of cert; usually valueFrom a file.' }),
    min_version: z
      .enum(poolTlsVersions)
      .default('TLSv1.2')
      .meta({ description: 'Lowest TLS version accepted from a node.' }),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    path: ['key'],
    error: 'cert and key go together: set both for a client certificate, or neither',
    when: (payload) => isRecord(payload.value),
  })
  .meta({ description: 'TLS to the nodes (http/https virtual servers only).' });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validated DNS discovery settings. */
export type DnsDiscovery = z.output<typeof dnsDiscoverySchema>;
/** Validated passive health settings. */
export type PassiveHealth = z.output<typeof passiveHealthSchema>;
/** Validated persistence settings. */
export type Persistence = z.output<typeof persistenceSchema>;
/** Validated pool TLS settings. */
export type PoolTls = z.output<typeof poolTlsSchema>;
/** A panic mode. */
export type PanicMode = (typeof panicModes)[number];
