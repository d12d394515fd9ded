import { z } from 'zod';
import { descriptionSchema, millisecondsSchema, objectNameSchema } from './fields.js';

const claimName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:/-]+$/, { error: 'must be a claim name such as "email" or "groups"' });

/** Which ID token / userinfo claims carry the user's email and groups. */
const claimsSchema = z
  .strictObject({
    email: claimName.default('email').meta({ description: "Claim holding the user's email." }),
    groups: claimName
      .default('groups')
      .meta({ description: "Claim holding the user's groups (a list of names)." }),
  })
  .meta({ description: 'Claim mapping from the identity provider to Postern users.' });

/**
 * Whether an issuer URL may be used: https anywhere, plain http only on loopback (tests and labs),
 * where nobody on the network can read or change discovery, tokens or keys.
 */
function httpsOrLoopback(issuer: string): boolean {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return true; // z.url() reports an unparsable issuer already.
  }
  if (url.protocol !== 'http:') return true;
  // URL parsing lowercases names and normalises IPv4 ("127.1") and IPv6 ("[0::1]") forms.
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * An OpenID Connect identity provider the edge sends users to (authorization code flow with
 * PKCE). The client secret usually comes from a mounted Secret through `valueFrom`.
 */
export const identityProviderSchema = z
  .strictObject({
    name: objectNameSchema,
    description: descriptionSchema.optional(),
    issuer: z
      .url({
        protocol: /^https?$/,
        error: 'must be the issuer URL, e.g. https://login.example.com',
      })
      .max(2048)
      .refine(httpsOrLoopback, {
        error:
          "must be an https URL: plain http is allowed only for an issuer on loopback (127.0.0.0/8, [::1], localhost), since discovery and tokens over http can be read and changed in transit; use the provider's https issuer URL",
      })
      .meta({ description: 'Issuer URL; its /.well-known/openid-configuration is read.' }),
    client_id: z.string().min(1).max(512).meta({ description: 'OAuth client ID at the provider.' }),
    client_secret: z.string().min(1).max(4096).optional().meta({
      description:
        'OAuth client secret; usually valueFrom a file. Omit for a public client (PKCE only).',
    }),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, { error: 'must be a scope token' }))
      .min(1)
      .max(64)
      .default(['openid', 'email', 'profile'])
      .refine((s) => s.includes('openid'), { error: 'must include "openid"' })
      .meta({ description: 'Scopes requested; must include openid.' }),
    claims: claimsSchema.prefault({}),
    ca: z
      .string()
      .max(1_048_576)
      .regex(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/, {
        error: 'must hold a PEM certificate ("-----BEGIN CERTIFICATE-----")',
      })
      .optional()
      .meta({
        description:
          "Extra PEM CA certificate(s) trusted for the issuer's TLS; usually valueFrom a file. Default: the system CAs.",
      }),
    timeout_ms: millisecondsSchema(100, 60_000)
      .default(10_000)
      .meta({ description: 'Give up a request to the provider after this long.' }),
    post_logout_redirect: z.boolean().optional().meta({
      description:
        "Set when https://<host>/.postern/auth/logged-out of each virtual server is registered at the provider as a post-logout redirect URI: a logout then comes back there from the provider's logout. Default: the browser stays on the provider's logout page.",
    }),
  })
  .meta({ description: 'An OpenID Connect identity provider.' });

/** A validated identity provider. */
export type IdentityProvider = z.output<typeof identityProviderSchema>;
