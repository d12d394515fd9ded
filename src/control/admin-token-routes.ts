import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AdminTokenRecord, Store } from '../store/index.js';
import { createAdminToken } from './admin-tokens.js';
import { notFound, parse, type ById } from './api-request.js';
import { sendTagged, withEtag } from './etag.js';
import { paginate, type PageQuery } from './pagination.js';

/** The body of `POST /admin-tokens`. */
export const adminTokenCreateSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
        error: 'must start with a letter or digit and hold only letters, digits, . _ -',
      }),
    role: z.enum(['admin', 'operator', 'viewer']).meta({
      description:
        'viewer: GET only; operator: all but admin tokens, key creation and restore; admin: all.',
    }),
    expires_at: z.iso.datetime({ offset: true }).optional(),
  })
  .meta({ description: 'A new admin API token.' });

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** An admin token as the API shows it: never its secret or hash. */
export function tokenView(t: AdminTokenRecord) {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    created_at: iso(t.createdAt),
    last_used_at: iso(t.lastUsedAt),
    expires_at: iso(t.expiresAt),
    revoked: t.revoked,
    revoked_at: iso(t.revokedAt),
  };
}

/** Routes for admin tokens (role admin only; see admin-roles.ts). */
export function registerAdminTokens(api: FastifyInstance, store: Store): void {
  api.get('/admin-tokens', async (req) =>
    paginate(
      (await store.adminTokens.list()).map((t) => withEtag(tokenView(t))),
      req.query as PageQuery,
      {
        list: 'admin-tokens',
        key: (t) => t.name,
      },
    ),
  );
  api.post('/admin-tokens', async (req, reply) => {
    const input = parse(adminTokenCreateSchema, req.body);
    const { record, value } = await createAdminToken(store, {
      name: input.name,
      role: input.role,
      expiresAt: input.expires_at === undefined ? undefined : Date.parse(input.expires_at),
    });
    // The secret is shown this once; only its hash is stored.
    return reply.code(201).send({ ...withEtag(tokenView(record)), secret: value });
  });
  api.get('/admin-tokens/:id', async (req: ById, reply) => {
    const token = await store.adminTokens.get(req.params.id);
    if (!token) throw notFound('admin token', req.params.id);
    return sendTagged(reply, tokenView(token));
  });
  api.post('/admin-tokens/:id/revoke', async (req: ById) =>
    withEtag(tokenView(await store.adminTokens.revoke(req.params.id))),
  );
  // Deleting revokes: the record stays so the audit log's actor names keep their meaning.
  api.delete('/admin-tokens/:id', async (req: ById, reply) => {
    await store.adminTokens.revoke(req.params.id);
    return reply.code(204).send();
  });
}
