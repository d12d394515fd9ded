import { z } from 'zod';
import { objectNameSchema } from './fields.js';

/** Shortest re-authentication and idle timeout, as ZPA's timeout policy allows (10 minutes). */
export const MIN_SESSION_TIMEOUT_MS = 600_000;

const sessionTimeout = (max: number) =>
  z
    .number()
    .int()
    .max(max)
    .refine((ms) => ms === 0 || ms >= MIN_SESSION_TIMEOUT_MS, {
      error: `must be 0 (never) or at least ${MIN_SESSION_TIMEOUT_MS} (10 minutes)`,
    });

/**
 * Browser access on an https virtual server: users log in at an identity provider, get a
 * session cookie, and every request is checked against the access policy.
 */
export const browserAccessSchema = z
  .strictObject({
    login: z.enum(['required', 'none']).default('required').meta({
      description:
        'required: users log in at identity_provider and the access policy decides; none: no login (the server is public).',
    }),
    identity_provider: objectNameSchema.optional().meta({
      description: 'Name of the identity provider users log in at; required with login: required.',
    }),
    idle_timeout_ms: sessionTimeout(2_592_000_000)
      .default(1_800_000)
      .meta({ description: 'End a session unused this long (default 30 minutes); 0 = never.' }),
    reauthentication_timeout_ms: sessionTimeout(2_592_000_000)
      .refine((ms) => ms !== 0, { error: 'must be at least 600000 (10 minutes)' })
      .default(86_400_000)
      .meta({
        description:
          'Send the user back to the identity provider this long after login (default 24 h).',
      }),
    identity_headers: z.boolean().default(true).meta({
      description: 'Send X-Postern-User, X-Postern-Email and X-Postern-Groups to the application.',
    }),
    assertion: z.boolean().default(true).meta({
      description:
        'Send X-Postern-Assertion: a signed JWT (ES256, audience = the virtual server name) the application verifies with /.postern/jwks.json.',
    }),
  })
  .superRefine((a, ctx) => {
    if (a.login === 'required' && a.identity_provider === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['identity_provider'],
        message: 'is required with login: required; name an object under identity_providers',
      });
    }
  })
  .meta({ description: 'Browser access: login, sessions and identity sent to the application.' });

/** Validated browser access settings. */
export type BrowserAccess = z.output<typeof browserAccessSchema>;
