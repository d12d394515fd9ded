import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { connectorGroupSchema, provisioningKeyCreateSchema } from '../config/index.js';
import { definedProps } from '../core/index.js';
import type { ConnectorRecord, ConnectorTunnelRecord, Store } from '../store/index.js';
import type { RuntimeView } from './runtime-view.js';
import { notFound, parse, type ById, type Named } from './api-request.js';
import { connectorView, edgesConnected, groupView, keyView } from './api-views.js';
import { controlErrors } from './errors.js';
import { sendTagged, withEtag } from './etag.js';
import { paginate, type PageQuery } from './pagination.js';
import { createProvisioningKey } from './provisioning-keys.js';
import { deleteProblems } from './delete-users.js';

type ListRequest = FastifyRequest<{ Querystring: PageQuery & { group?: string } }>;

/** The body of `PATCH /provisioning-keys/:id`: fields that may change after creation. */
export const provisioningKeyPatchSchema = z
  .strictObject({
    max_usage: z.number().int().min(1).max(1_000_000).optional(),
    enabled: z.boolean().optional(),
  })
  .meta({ description: 'Changes to a provisioning key.' });

/** Routes for connector groups. */
export function registerGroups(api: FastifyInstance, store: Store, runtime: RuntimeView): void {
  api.get('/connector-groups', async (req: ListRequest) =>
    paginate(
      (await store.groups.list()).map((g) => withEtag(groupView(g))),
      req.query,
      {
        list: 'connector-groups',
        key: (g) => g.name,
      },
    ),
  );
  api.post('/connector-groups', async (req, reply) => {
    const input = parse(connectorGroupSchema, req.body);
    const created = await store.groups.create({
      name: input.name,
      ...definedProps({
        description: input.description,
        autoDeleteAfterDays: input.auto_delete_after_days,
      }),
    });
    return reply.code(201).send(withEtag(groupView(created)));
  });
  const existing = async (name: string) => {
    const group = await store.groups.get(name);
    if (!group) throw notFound('connector group', name);
    return group;
  };
  const writable = async (name: string) => {
    const group = await existing(name);
    if (group.owner !== 'api')
      throw controlErrors.ownedByDocument('connector group', name, group.owner);
  };
  api.get('/connector-groups/:name', async (req: Named, reply) =>
    sendTagged(reply, groupView(await existing(req.params.name))),
  );
  // PUT replaces what may change: fields left out are cleared.
  api.put('/connector-groups/:name', async (req: Named) => {
    await writable(req.params.name);
    const input = parse(connectorGroupSchema, { ...(req.body as object), name: req.params.name });
    const updated = await store.groups.update(req.params.name, {
      description: input.description ?? null,
      autoDeleteAfterDays: input.auto_delete_after_days ?? null,
    });
    return withEtag(groupView(updated));
  });
  // Refused while the configuration in force uses the group: the next import or API change
  // would fail, and pools and applications would point at nothing meanwhile.
  api.delete('/connector-groups/:name', async (req: Named, reply) => {
    await writable(req.params.name);
    const target = { collection: 'connector_groups', name: req.params.name } as const;
    const problems = await deleteProblems(store, runtime, target);
    if (problems.length > 0)
      throw controlErrors.objectInUse('connector group', target.name, problems);
    await store.groups.delete(req.params.name);
    return reply.code(204).send();
  });
}

/** Routes for provisioning keys. */
export function registerKeys(api: FastifyInstance, store: Store, runtime: RuntimeView): void {
  api.get('/provisioning-keys', async (req: ListRequest) =>
    paginate(
      (await store.provisioningKeys.list(req.query.group ? { group: req.query.group } : {})).map(
        (k) => withEtag(keyView(k)),
      ),
      req.query,
      { list: 'provisioning-keys', key: (k) => k.id },
    ),
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
    return reply.code(201).send({ ...withEtag(keyView(record)), value });
  });
  const existing = async (id: string) => {
    const key = await store.provisioningKeys.get(id);
    if (!key) throw notFound('provisioning key', id);
    return key;
  };
  api.get('/provisioning-keys/:id', async (req: ById, reply) =>
    sendTagged(reply, keyView(await existing(req.params.id))),
  );
  // Enabling a revoked key would answer "enabled" while the key stays unusable: refuse it.
  const enable = async (id: string) => {
    const key = await existing(id);
    if (key.revoked) throw controlErrors.keyRevokedForGood(key.id, key.group);
    return store.provisioningKeys.setEnabled(key.id, true);
  };
  api.patch('/provisioning-keys/:id', async (req: ById) => {
    const input = parse(provisioningKeyPatchSchema, req.body);
    let key = await existing(req.params.id);
    if (input.enabled === true && key.revoked) {
      throw controlErrors.keyRevokedForGood(key.id, key.group);
    }
    if (input.max_usage !== undefined) {
      key = await store.provisioningKeys.setMaxUsage(key.id, input.max_usage);
    }
    if (input.enabled !== undefined) {
      key = await store.provisioningKeys.setEnabled(key.id, input.enabled);
    }
    return withEtag(keyView(key));
  });
  api.post('/provisioning-keys/:id/revoke', async (req: ById) =>
    withEtag(keyView(await store.provisioningKeys.revoke(req.params.id))),
  );
  api.post('/provisioning-keys/:id/enable', async (req: ById) =>
    withEtag(keyView(await enable(req.params.id))),
  );
  api.post('/provisioning-keys/:id/disable', async (req: ById) =>
    withEtag(keyView(await store.provisioningKeys.setEnabled(req.params.id, false))),
  );
}

/** Routes for connectors; delete revokes, drain moves new sessions elsewhere. */
export function registerConnectors(api: FastifyInstance, store: Store, runtime: RuntimeView): void {
  // `tunnels` are the store's records of which live edge holds which connector (HA set).
  const view = (c: ConnectorRecord, tunnels: readonly ConnectorTunnelRecord[]) => {
    const live = runtime.connected().find((t) => t.connectorId === c.id);
    const held = tunnels.filter((t) => t.connectorId === c.id);
    return connectorView(c, live, edgesConnected(held, live, runtime.serverId));
  };
  const viewOne = async (c: ConnectorRecord) => view(c, await store.tunnels.list(c.id));
  api.get('/connectors', async (req: ListRequest) => {
    const tunnels = await store.tunnels.list();
    const connectors = await store.connectors.list(
      req.query.group ? { group: req.query.group } : {},
    );
    return paginate(
      connectors.map((c) => withEtag(view(c, tunnels))),
      req.query,
      { list: 'connectors', key: (c) => c.id },
    );
  });
  const existing = async (id: string) => {
    const c = await store.connectors.get(id);
    if (!c) throw notFound('connector', id);
    return c;
  };
  api.get('/connectors/:id', async (req: ById, reply) =>
    sendTagged(reply, await viewOne(await existing(req.params.id))),
  );
  // Deleting a connector revokes it: the record stays (revoked) so its certificate is refused.
  api.delete('/connectors/:id', async (req: ById, reply) => {
    await store.connectors.markRevoked(req.params.id);
    runtime.disconnect(req.params.id);
    return reply.code(204).send();
  });
  // A drain is kept in the store, so every edge honours it, and a reconnect too: no new
  // sessions through the connector's tunnels, those in flight finish. It lasts until undrain.
  api.post('/connectors/:id/drain', async (req: ById, reply) => {
    const connector = await existing(req.params.id);
    if (connector.revoked) throw controlErrors.connectorDeleted(connector.id);
    const drained = await store.connectors.setDraining(connector.id, true);
    runtime.drain?.(connector.id);
    return reply.code(202).send(withEtag(await viewOne(drained)));
  });
  api.post('/connectors/:id/undrain', async (req: ById) => {
    const connector = await existing(req.params.id);
    const undrained = await store.connectors.setDraining(connector.id, false);
    runtime.undrain?.(connector.id);
    return withEtag(await viewOne(undrained));
  });
}
