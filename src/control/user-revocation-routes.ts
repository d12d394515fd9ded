import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import { readRevocation, revokeUser, type UserRevocation } from './identity/index.js';
import { notFound, parse, type Named } from './api-request.js';
import { sendTagged, withEtag } from './etag.js';

/** The body of `POST /user-revocations`: the user whose access ends. */
export const userRevocationCreateSchema = z
  .strictObject({
    identity_provider: z.string().min(1).max(253).meta({
      description: 'The name of the identity provider the user logs in with (as configured).',
    }),
    subject: z.string().min(1).max(1024).meta({
      description: "The user's subject (the ID token's sub claim, as access logs show it).",
    }),
  })
  .meta({
    description:
      'Revokes everything a user holds: browser sessions, CLI tokens issued until now, open connections.',
  });

/** The name of a user's revocation in URLs: `<identity provider>:<subject>`. */
function revocationName(user: { readonly idp: string; readonly subject: string }): string {
  return `${user.idp}:${user.subject}`;
}

/** A revocation as the API shows it. */
function revocationView(r: UserRevocation, sessionsEnded?: number) {
  return {
    name: revocationName(r),
    identity_provider: r.idp,
    subject: r.subject,
    not_before: new Date(r.notBefore).toISOString(),
    ...(sessionsEnded === undefined ? {} : { sessions_ended: sessionsEnded }),
  };
}

/**
 * Routes for per-user revocation (POST is admin only; see admin-roles.ts): ending every browser
 * session of a user on every edge, refusing their CLI tokens issued before now, and cutting
 * their open connections at each edge's next re-check. Audited like every change.
 */
export function registerUserRevocations(
  api: FastifyInstance,
  options: { readonly store: Store; readonly clock: Clock },
): void {
  const { store, clock } = options;
  api.post('/user-revocations', async (req, reply) => {
    const input = parse(userRevocationCreateSchema, req.body);
    const user = { idp: input.identity_provider, subject: input.subject };
    const revoked = await revokeUser(store, user, { clock });
    return reply.code(201).send(withEtag(revocationView(revoked, revoked.sessions)));
  });
  api.get('/user-revocations/:name', async (req: Named, reply) => {
    const at = req.params.name.indexOf(':');
    const user =
      at > 0
        ? { idp: req.params.name.slice(0, at), subject: req.params.name.slice(at + 1) }
        : undefined;
    const found = user && (await readRevocation(store.settings, user));
    if (!found) throw notFound('user revocation', req.params.name);
    return sendTagged(reply, revocationView(found));
  });
}
