import { z } from 'zod';
import { messageErrors } from './errors.js';

/**
 * The versioned messages carried on the enrollment connection, the control stream and
 * at the head of each data stream (see docs/protocol.md). Objects are loose: fields a
 * newer peer adds are kept and ignored, so both sides can be upgraded one at a time.
 */
export const MESSAGE_VERSION = 1;

const base = { v: z.literal(MESSAGE_VERSION) };
const pem = z
  .string()
  .min(1)
  .max(64 * 1024);
const name = z.string().min(1).max(253);

/** Network identifiers a connector advertises (Konnectivity's agent identifiers, plus cidr). */
export const identifiersSchema = z.looseObject({
  host: z.array(z.string().max(253)).max(64).default([]),
  ipv4: z.array(z.string().max(15)).max(64).default([]),
  ipv6: z.array(z.string().max(45)).max(64).default([]),
  cidr: z.array(z.string().max(49)).max(256).default([]),
  defaultRoute: z.boolean().default(false),
});

/** One destination pattern a connector is allowed to dial: exact or `*.suffix` host, or CIDR. */
export const targetRuleSchema = z.looseObject({
  host: z.string().max(253).optional(),
  cidr: z.string().max(49).optional(),
  ports: z.tuple([z.number().int().min(1).max(65535), z.number().int().min(1).max(65535)]),
});

/** Most characters of a check result's `detail`. */
export const MAX_CHECK_DETAIL = 1024;
/** Most addresses in one `discovered` report. */
export const MAX_DISCOVERED_ADDRESSES = 10_000;
/** Largest weight of a discovered node (the largest SRV weight). */
export const MAX_DISCOVERED_WEIGHT = 65_535;
/** Most characters of a `discovered` report's `error`. */
export const MAX_DISCOVERY_ERROR = 4096;

/** Most services in one `kubernetes_services` message (a larger set is sent in several). */
export const MAX_KUBERNETES_SERVICES = 500;
/** Most ready addresses reported for one Kubernetes Service. */
export const MAX_KUBERNETES_ADDRESSES = 1000;

/** One Kubernetes Service a connector discovered (annotation `postern.dev/expose`). */
export const kubernetesServiceSchema = z.looseObject({
  namespace: name,
  name,
  type: z.string().max(32).default('ClusterIP'),
  /** `clusterIP: None`: clients resolve the pods' addresses by DNS. */
  headless: z.boolean().default(false),
  clusterIp: z.string().max(45).optional(),
  /** The annotation's value, as written. */
  expose: z.string().max(253).default(''),
  ports: z
    .array(
      z.looseObject({
        name: z.string().max(63).default(''),
        port: z.number().int().min(1).max(65535),
        protocol: z.string().max(8).default('TCP'),
        targetPort: z.union([z.number().int(), z.string().max(63)]).optional(),
      }),
    )
    .max(256)
    .default([]),
  /** Ready endpoint addresses from the Service's EndpointSlices. */
  addresses: z.array(z.string().max(45)).max(MAX_KUBERNETES_ADDRESSES).default([]),
});

/** Health states of an application, a destination or a port (ZPA: Up, Down, Unhealthy, Unknown). */
export const healthStates = ['up', 'down', 'unhealthy', 'unknown'] as const;
/** Most destinations of one application a connector reports in one `app_health`. */
export const MAX_HEALTH_DESTINATIONS = 1000;

/** An application whose health a group's connectors report (`config.applications`). */
export const applicationHealthWorkSchema = z.looseObject({
  name,
  mode: z.enum(['on_access', 'continuous']),
  domains: z.array(z.string().max(253)).max(1024).default([]),
  cidrs: z.array(z.string().max(49)).max(1024).default([]),
  ports: z
    .array(z.tuple([z.number().int().min(1).max(65535), z.number().int().min(1).max(65535)]))
    .max(256),
  intervalMs: z.number().int().min(100),
  timeoutMs: z.number().int().min(1),
});

const portHealthSchema = z.looseObject({
  port: z.number().int().min(1).max(65535),
  state: z.enum(healthStates),
  /** Resolved addresses that answered and did not. */
  up: z.array(z.string().max(45)).max(64).default([]),
  down: z.array(z.string().max(45)).max(64).default([]),
  detail: z.string().max(MAX_CHECK_DETAIL).optional(),
});

/** One destination (an exact name, an accessed name or address) of an `app_health` report. */
export const destinationHealthSchema = z.looseObject({
  destination: z.string().min(1).max(253),
  state: z.enum(healthStates),
  ports: z.array(portHealthSchema).max(256).default([]),
  /** When it was last checked (ms since the epoch). */
  checkedAt: z.number().int().min(0),
});

const checkTypes = ['tcp', 'http', 'https'] as const;

/**
 * A monitor as configuration documents write it (`monitors[]`), sent to a connector so it runs
 * the checks in its own network. Only fields a connector needs; the rest are ignored.
 */
export const wireMonitorSchema = z.looseObject({
  name,
  type: z.enum(checkTypes),
  path: z.string().max(2048).optional(),
  host_header: z.string().max(255).optional(),
  expect_status: z.union([z.string().max(16), z.array(z.string().max(16)).max(32)]).optional(),
  body_match: z.string().max(1024).optional(),
  delay_ms: z.number().int().min(1).optional(),
  timeout_ms: z.number().int().min(1).optional(),
  failures: z.number().int().min(1).optional(),
  successes: z.number().int().min(1).optional(),
  verify_tls: z.boolean().optional(),
});

/** DNS discovery as configuration documents write it (`pools[].discovery.dns`). */
export const wireDnsDiscoverySchema = z.looseObject({
  name,
  type: z.enum(['A', 'AAAA', 'SRV']).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  min_interval_ms: z.number().int().min(0).optional(),
  resolver: z.string().max(300).optional(),
});

/**
 * A pool's `tls` as its connectors need it for https checks: what verifying a node takes, never
 * the client certificate or its key (checks that need them run on the edge).
 */
export const wirePoolTlsSchema = z.looseObject({
  server_name: z.string().max(253).optional(),
  verify: z.boolean().default(true),
  ca: pem.optional(),
  /** A string, not an enum, so that a version a connector does not know cannot refuse `config`. */
  min_version: z.string().max(16).optional(),
});

/** One check a connector runs: a monitor against one node of one of its group's pools. */
export const monitorWorkSchema = z.looseObject({
  pool: name,
  address: z.string().min(3).max(300),
  monitor: wireMonitorSchema,
  /**
   * The pool's `tls`, sent on the pool's first item only (a CA is large) and meant for all its
   * items; absent on every item = the pool has no `tls`. Older connectors ignore it.
   */
  tls: wirePoolTlsSchema.optional(),
});

/** One pool whose nodes a connector discovers by DNS in its own network. */
export const discoveryWorkSchema = z.looseObject({ pool: name, dns: wireDnsDiscoverySchema });

/** The outcome of one health check, as a connector reports it. */
export const checkResultSchema = z.looseObject({
  ok: z.boolean(),
  detail: z.string().max(MAX_CHECK_DETAIL).optional(),
  durationMs: z.number().min(0).optional(),
});

/** Result codes a connector answers a dial with. */
export const dialCodes = [
  'ok',
  'refused',
  'timeout',
  'dns',
  'not_allowed',
  'unreachable',
  'error',
] as const;

const schemas = {
  enroll_hello: z.looseObject({ ...base, type: z.literal('enroll_hello'), keyId: name }),
  enroll_challenge: z.looseObject({
    ...base,
    type: z.literal('enroll_challenge'),
    edgeProof: z.string().min(1).max(512),
    caPem: pem,
  }),
  enroll_request: z.looseObject({
    ...base,
    type: z.literal('enroll_request'),
    secret: z.string().min(1).max(512),
    csrPem: pem,
    hostname: z.string().max(253).default(''),
    version: z.string().max(64).default(''),
    ephemeral: z.boolean().default(false),
  }),
  enroll_result: z.looseObject({
    ...base,
    type: z.literal('enroll_result'),
    connectorId: name,
    group: name,
    certPem: pem,
    caPem: pem,
  }),
  /**
   * Connector → edge on an enrollment connection, instead of enroll_hello: renew a certificate
   * that expired while offline, proving the old key (signature over the exporter value and CSR).
   */
  renew_request: z.looseObject({
    ...base,
    type: z.literal('renew_request'),
    connectorId: name,
    certPem: pem,
    csrPem: pem,
    proof: z.string().min(1).max(512),
  }),
  renew_result: z.looseObject({
    ...base,
    type: z.literal('renew_result'),
    certPem: pem,
    caPem: pem,
  }),
  hello: z.looseObject({
    ...base,
    type: z.literal('hello'),
    connectorId: name,
    group: name,
    version: z.string().max(64),
    ephemeral: z.boolean().default(false),
    hostname: z.string().max(253).default(''),
    privateIp: z.string().max(45).default(''),
    /** Edge server ids this connector already holds a tunnel to: such an edge only welcomes. */
    heldEdges: z.array(name).max(1000).default([]),
    identifiers: identifiersSchema.default({
      host: [],
      ipv4: [],
      ipv6: [],
      cidr: [],
      defaultRoute: false,
    }),
  }),
  welcome: z.looseObject({
    ...base,
    type: z.literal('welcome'),
    serverId: name,
    serverCount: z.number().int().min(1),
    peers: z.array(z.looseObject({ serverId: name, address: z.string().max(300) })).default([]),
  }),
  /** The edge's view of the live HA set changed (sent on the control stream, like `welcome`). */
  edges: z.looseObject({
    ...base,
    type: z.literal('edges'),
    serverId: name,
    serverCount: z.number().int().min(1),
    peers: z
      .array(z.looseObject({ serverId: name, address: z.string().max(300) }))
      .max(1000)
      .default([]),
  }),
  config: z.looseObject({
    ...base,
    type: z.literal('config'),
    generation: z.number().int().min(0),
    targets: z.array(targetRuleSchema).max(100_000),
    /** Health checks the group's connectors run and report with `health`. */
    monitors: z.array(monitorWorkSchema).max(100_000).default([]),
    /** DNS discovery the group's connectors run and report with `discovered`. */
    discovery: z.array(discoveryWorkSchema).max(10_000).default([]),
    /** Applications whose health the group's connectors check and report with `app_health`. */
    applications: z.array(applicationHealthWorkSchema).max(10_000).default([]),
  }),
  /** A connector's view of one application's health; replaces its previous one. */
  app_health: z.looseObject({
    ...base,
    type: z.literal('app_health'),
    application: name,
    state: z.enum(healthStates),
    destinations: z.array(destinationHealthSchema).max(MAX_HEALTH_DESTINATIONS).default([]),
  }),
  health: z.looseObject({
    ...base,
    type: z.literal('health'),
    pool: name,
    address: z.string().min(3).max(300),
    monitor: name,
    result: checkResultSchema,
  }),
  discovered: z.looseObject({
    ...base,
    type: z.literal('discovered'),
    pool: name,
    addresses: z.array(z.string().min(3).max(300)).max(MAX_DISCOVERED_ADDRESSES).default([]),
    /**
     * Weight by address (SRV discovery); an address without one, or a report without `weights`
     * (older connectors), weighs 1. A separate map keeps `addresses` as older edges read it.
     */
    weights: z
      .record(z.string().min(3).max(300), z.number().int().min(1).max(MAX_DISCOVERED_WEIGHT))
      .refine((w) => Object.keys(w).length <= MAX_DISCOVERED_ADDRESSES, {
        message: `more than ${MAX_DISCOVERED_ADDRESSES} weights`,
      })
      .optional(),
    /** Set when the resolution failed; `addresses` are then ignored and the last good set stays. */
    error: z.string().max(MAX_DISCOVERY_ERROR).optional(),
  }),
  kubernetes_services: z.looseObject({
    ...base,
    type: z.literal('kubernetes_services'),
    /** True on the first part of a full snapshot: it replaces what this connector sent before. */
    replace: z.boolean().default(true),
    services: z.array(kubernetesServiceSchema).max(MAX_KUBERNETES_SERVICES).default([]),
    /** Set while discovery fails (for example: no RBAC permission); the last services stay. */
    error: z.string().max(MAX_DISCOVERY_ERROR).optional(),
  }),
  renew: z.looseObject({
    ...base,
    type: z.literal('renew'),
    requestId: z.number().int(),
    csrPem: pem,
  }),
  renewed: z.looseObject({
    ...base,
    type: z.literal('renewed'),
    requestId: z.number().int(),
    certPem: pem,
  }),
  drain: z.looseObject({ ...base, type: z.literal('drain') }),
  /** Edge → connector: an administrator lifted the drain (older connectors ignore it). */
  undrain: z.looseObject({ ...base, type: z.literal('undrain') }),
  error: z.looseObject({
    ...base,
    type: z.literal('error'),
    code: z.string().max(100),
    message: z.string().max(4096),
    requestId: z.number().int().optional(),
  }),
  dial: z.looseObject({
    ...base,
    type: z.literal('dial'),
    target: z.string().min(3).max(300),
    protocol: z.literal('tcp').default('tcp'),
    sessionId: z.string().max(64).default(''),
    timeoutMs: z.number().int().min(1).max(300_000).default(10_000),
  }),
  dial_result: z.looseObject({
    ...base,
    type: z.literal('dial_result'),
    code: z.enum(dialCodes),
    message: z.string().max(4096).default(''),
    resolvedAddress: z.string().max(300).optional(),
  }),
} as const;

type Schemas = typeof schemas;
/** Every message type this version knows. */
export type MessageType = keyof Schemas;
/** A decoded message of the given type, defaults applied. */
export type Message<T extends MessageType = MessageType> = z.output<Schemas[T]>;
/** What a sender passes: defaults may be left out, `v` is added by {@link makeMessage}. */
export type MessageInput<T extends MessageType> = Omit<z.input<Schemas[T]>, 'v'>;
/** Result code of a dial. */
export type DialCode = (typeof dialCodes)[number];
/** A connector's advertised identifiers. */
export type Identifiers = z.output<typeof identifiersSchema>;
/** One allowed destination pattern. */
export type TargetRule = z.output<typeof targetRuleSchema>;
/** A monitor as sent in `config`. */
export type WireMonitor = z.output<typeof wireMonitorSchema>;
/** A DNS discovery spec as sent in `config`. */
export type WireDnsDiscovery = z.output<typeof wireDnsDiscoverySchema>;
/** One health check a connector is asked to run. */
export type MonitorWork = z.output<typeof monitorWorkSchema>;
/** A pool's TLS settings as sent to connectors. */
export type WirePoolTls = z.output<typeof wirePoolTlsSchema>;
/** One pool a connector is asked to discover. */
export type DiscoveryWork = z.output<typeof discoveryWorkSchema>;
/** One health check's outcome as reported by a connector. */
export type CheckResult = z.output<typeof checkResultSchema>;
/** A health state. */
export type HealthState = (typeof healthStates)[number];
/** An application whose health a connector checks, as sent in `config`. */
export type ApplicationHealthWork = z.output<typeof applicationHealthWorkSchema>;
/** One destination of an `app_health` report. */
export type DestinationHealth = z.output<typeof destinationHealthSchema>;
/** One discovered Kubernetes Service as sent in `kubernetes_services`. */
export type KubernetesService = z.output<typeof kubernetesServiceSchema>;

/** Builds a message object ready for {@link encodeMessage}. */
export function makeMessage<T extends MessageType>(
  input: MessageInput<T> & { type: T },
): Message<T> {
  return { v: MESSAGE_VERSION, ...input } as unknown as Message<T>;
}

/**
 * Validates a decoded JSON object. Returns undefined for message types this version does
 * not know (a newer peer's addition, ignored); throws a coded error for malformed known ones.
 */
export function parseMessage(value: unknown): Message | undefined {
  const obj = value as { v?: unknown; type?: unknown };
  if (obj.v !== MESSAGE_VERSION) throw messageErrors.unsupportedVersion(obj.v);
  if (typeof obj.type !== 'string' || !Object.hasOwn(schemas, obj.type)) return undefined;
  const schema = schemas[obj.type as MessageType];
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw messageErrors.invalid(obj.type, problems);
  }
  return result.data;
}

/** Narrows a parsed message to one type, or throws a coded error naming what was expected. */
export function expectMessage<T extends MessageType>(
  message: Message | undefined,
  type: T,
): Message<T> {
  if (message?.type === type) return message as Message<T>;
  if (message?.type === 'error') {
    throw messageErrors.peerError(message.code, message.message);
  }
  throw messageErrors.invalid(
    type,
    `expected a "${type}" message, got "${message?.type ?? 'unknown'}"`,
  );
}
