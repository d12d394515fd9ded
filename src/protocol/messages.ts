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
  hello: z.looseObject({
    ...base,
    type: z.literal('hello'),
    connectorId: name,
    group: name,
    version: z.string().max(64),
    ephemeral: z.boolean().default(false),
    hostname: z.string().max(253).default(''),
    privateIp: z.string().max(45).default(''),
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
  config: z.looseObject({
    ...base,
    type: z.literal('config'),
    generation: z.number().int().min(0),
    targets: z.array(targetRuleSchema).max(100_000),
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
