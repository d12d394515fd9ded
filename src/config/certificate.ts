import { z } from 'zod';
import { descriptionSchema, objectNameSchema } from './fields.js';

// Only the PEM armour is checked here (src/config stays free of crypto); the importer parses
// both halves and checks that the key belongs to the certificate.
const certificatePem = z
  .string()
  .max(1_048_576)
  .regex(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/, {
    error: 'must hold a PEM certificate ("-----BEGIN CERTIFICATE-----"), chain after it if any',
  });

const privateKeyPem = z
  .string()
  .max(1_048_576)
  .regex(/-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (RSA |EC )?PRIVATE KEY-----/, {
    error: 'must hold an unencrypted PEM private key ("-----BEGIN PRIVATE KEY-----", RSA or EC)',
  });

/** A TLS key pair that https virtual servers present, chosen by SNI from its names. */
export const certificateSchema = z
  .strictObject({
    name: objectNameSchema,
    description: descriptionSchema.optional(),
    cert: certificatePem.meta({
      description: 'PEM certificate, then its chain; usually valueFrom a mounted Secret.',
    }),
    key: privateKeyPem.meta({
      description: 'PEM private key of the certificate; usually valueFrom a mounted Secret.',
    }),
  })
  .meta({ description: 'A TLS certificate and its private key.' });

/** A validated certificate (PEM texts). */
export type Certificate = z.output<typeof certificateSchema>;
