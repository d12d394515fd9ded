import type { FastifyInstance, FastifyRequest } from 'fastify';
import { connectorGroupSchema, provisioningKeyCreateSchema } from '../config/index.js';
import { definedProps } from '../core/index.js';
import type { ConnectorRecord, Store } from '../store/index.js';
import type { RuntimeView } from './runtime-view.js';
import { notFound, parse, type ById, type Named } from './api-request.js';
import { connectorView, groupView, keyView } from './api-views.js';
import { createProvisioningKey } from './provisioning-keys.js';

/** Routes for connector groups. */
export function registerGroups(api: FastifyInstance, store: Store): void {
  api.get('/connector-groups', async () => ({ items: (await store.groups.list()).map(groupView) }));
  api.post('/connector-groups', async (req, reply) => {
    const input = parse(connectorGroupSchema, req.body);
    const created = await store.groups.create({
      name: input.name,
      ...definedProps({
        description: input.description,
        autoDeleteAfterDays: input.auto_delete_after_days,
      }),
    });
    return reply.code(201).send(groupView(created));
  });
  api.get('/connector-groups/:name', async (req: Named) => {
    const group = await store.groups.get(req.params.name);
    if (!group) throw notFound('connector group', req.params.name);
    return groupView(group);
  });
  api.delete('/connector-groups/:name', async (req: Named, reply) => {
    await store.groups.delete(req.params.name);
    return reply.code(204).send();
  });
}

/** Routes for provisioning keys. */
export function registerKeys(api: FastifyInstance, store: Store, runtime: RuntimeView): void {
  api.get(
    '/provisioning-keys',
    async (req: FastifyRequest<{ Querystring: { group?: string } }>) => ({
      items: (
        await store.provisioningKeys.list(req.query.group ? { group: req.query.group } : {})
      ).map(keyView),
    }),
  );
  api.post('/provisioning-keys', async (req, reply) => {
    const input = parse(provisioningKeyCreateSchema, req.body);
    const { record, value } = await createProvisioningKey(store, {
      group: input.group,
      maxUsage: input.max_usage,
      enabled: input.enabled,
      edgeAddress: runtime.advertiseAddress,
      expiresAt: input.expires_at === undefined ? undefined : Date.parse(input.expires_at),
      sourceCidrs: input.source_cidrs,
    });
    return reply.code(201).send({ ...keyView(record), value });
  });
  api.get('/provisioning-keys/:id', async (req: ById) => {
    const key = await store.provisioningKeys.get(req.params.id);
    if (!key) throw notFound('provisioning key', req.params.id);
    return keyView(key);
  });
  api.post('/provisioning-keys/:id/revoke', async (req: ById) =>
    keyView(await store.provisioningKeys.revoke(req.params.id)),
  );
  api.post('/provisioning-keys/:id/enable', async (req: ById) =>
    keyView(await store.provisioningKeys.setEnabled(req.params.id, true)),
  );
  api.post('/provisioning-keys/:id/disable', async (req: ById) =>
    keyView(await store.provisioningKeys.setEnabled(req.params.id, false)),
  );
}

/** Routes for connectors; delete revokes. */
export function registerConnectors(api: FastifyInstance, store: Store, runtime: RuntimeView): void {
  const view = (c: ConnectorRecord) => {
    const live = runtime.connected().find((t) => t.connectorId === c.id);
    return connectorView(c, live);
  };
  api.get('/connectors', async (req: FastifyRequest<{ Querystring: { group?: string } }>) => ({
    items: (await store.connectors.list(req.query.group ? { group: req.query.group } : {})).map(
      view,
    ),
  }));
  api.get('/connectors/:id', async (req: ById) => {
    const c = await store.connectors.get(req.params.id);
    if (!c) throw notFound('connector', req.params.id);
    return view(c);
  });
  // Deleting a connector revokes it: the record stays (revoked) so its certificate is refused.
  api.delete('/connectors/:id', async (req: ById, reply) => {
    await store.connectors.markRevoked(req.params.id);
    runtime.disconnect(req.params.id);
    return reply.code(204).send();
  });
}
