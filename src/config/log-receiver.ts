import { z } from 'zod';
import {
  descriptionSchema,
  hostPortSchema,
  millisecondsSchema,
  objectNameSchema,
} from './fields.js';

/** Log types a receiver can subscribe to (ZPA's User Activity, User Status, ... Audit). */
export const logTypes = [
  'user_activity',
  'user_status',
  'connector_status',
  'connector_metrics',
  'audit',
] as const;

/** One kind of streamed log record. */
export type LogType = (typeof logTypes)[number];

/** Wire formats of a log stream. */
export const logFormats = ['json', 'csv'] as const;

const pem = (what: string, pattern: RegExp) =>
  z
    .string()
    .max(1_048_576)
    .regex(pattern, { error: `must hold a PEM ${what}` });

const certificatesPem = pem(
  'certificate ("-----BEGIN CERTIFICATE-----")',
  /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/,
);

const receiverTlsSchema = z
  .strictObject({
    ca: certificatesPem.optional().meta({
      description:
        'PEM CA certificate(s) that sign the receiver; usually valueFrom a file. Default: the system CAs.',
    }),
    server_name: z.string().min(1).max(253).optional().meta({
      description:
        'Name checked against the receiver certificate (and sent as SNI). Default: the host of address.',
    }),
    cert: certificatesPem.optional().meta({
      description: 'PEM client certificate for mutual TLS; needs key.',
    }),
    key: pem(
      'private key ("-----BEGIN PRIVATE KEY-----")',
      /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (RSA |EC )?PRIVATE KEY-----/,
    )
      .optional()
      .meta({ description: 'PEM private key of cert.' }),
  })
  .meta({ description: 'TLS settings of a log receiver (transport: tls).' });

const filtersSchema = z
  .strictObject({
    connector_groups: z.array(objectNameSchema).max(1024).optional().meta({
      description: 'Only records whose connector_group is listed (records without one pass).',
    }),
    actions: z.array(z.string().min(1).max(64)).max(256).optional().meta({
      description: 'Only records whose action is listed (records without one pass).',
    }),
    outcomes: z.array(z.string().min(1).max(128)).max(256).optional().meta({
      description: 'Only records whose outcome is listed (records without one pass).',
    }),
  })
  .meta({ description: 'Record filters; all given filters must match.' });

const bufferSchema = z
  .strictObject({
    memory_records: z.number().int().min(1).max(1_000_000).default(10_000).meta({
      description: 'Records held in memory before the oldest spill to the disk spool.',
    }),
    memory_bytes: z.number().int().min(1024).max(1_073_741_824).default(8_388_608).meta({
      description: 'Bytes held in memory before the oldest spill to the disk spool.',
    }),
    spool_bytes: z.number().int().min(0).max(107_374_182_400).default(67_108_864).meta({
      description: 'Disk spool size; beyond it the oldest records are dropped. 0 = no spool.',
    }),
    spool_window_ms: millisecondsSchema(1000, 604_800_000)
      .default(900_000)
      .meta({ description: 'Records older than this are dropped instead of delivered.' }),
  })
  .meta({ description: 'Limits of the queue that holds records while the receiver is away.' });

/** A log receiver: a TCP or TLS endpoint (a SIEM) that the edge streams log records to. */
export const logReceiverSchema = z
  .strictObject({
    name: objectNameSchema,
    description: descriptionSchema.optional(),
    enabled: z.boolean().default(true),
    address: hostPortSchema,
    transport: z.enum(['tcp', 'tls']).default('tcp'),
    tls: receiverTlsSchema.optional(),
    format: z.enum(logFormats).default('json').meta({
      description: 'json: one JSON object a line; csv: a header line per connection, then rows.',
    }),
    log_types: z
      .array(z.enum(logTypes))
      .min(1, { error: 'must name at least one log type' })
      .default([...logTypes])
      .meta({ description: 'Log types streamed to this receiver.' }),
    filters: filtersSchema.prefault({}),
    buffer: bufferSchema.prefault({}),
  })
  .superRefine(
    (r, ctx) => {
      const tls = isRecord(r.tls) ? r.tls : undefined;
      if (tls !== undefined && r.transport !== 'tls') {
        ctx.addIssue({ code: 'custom', path: ['tls'], message: 'needs transport: tls' });
      }
      if ((tls?.cert === undefined) !== (tls?.key === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['tls', tls?.cert === undefined ? 'cert' : 'key'],
          message: 'cert and key go together: give both for mutual TLS, or neither',
        });
      }
      if (r.format === 'csv' && Array.isArray(r.log_types) && new Set(r.log_types).size !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['log_types'],
          message:
            'a csv receiver takes exactly one log type (each type has its own columns); add one receiver per type',
        });
      }
    },
    // Runs even when other fields are wrong, so every problem is reported at once.
    { when: (payload) => isRecord(payload.value) },
  )
  .meta({ description: 'A log receiver (SIEM) the edge streams log records to.' });

/** A validated log receiver. */
export type LogReceiver = z.output<typeof logReceiverSchema>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
