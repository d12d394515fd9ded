import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import {
  certificateSchema,
  connectorGroupSchema,
  monitorSchema,
  poolSchema,
  provisioningKeyCreateSchema,
  ruleSchema,
  virtualServerSchema,
  type Configuration,
} from '../config/index.js';
import { certificateProblems } from './importer/index.js';
import type { ImportStatus } from './importer/index.js';
import { sameSecretValue } from '../pki/index.js';
import { definedProps } from '../core/index.js';
import {
  StoreErrors,
  type ConnectorRecord,
  type ProvisioningKeyRecord,
  type Store,
} from '../store/index.js';
import { sendError } from './api-errors.js';
import { controlErrors } from './errors.js';
import { createProvisioningKey } from './provisioning-keys.js';

/** What the admin API needs to know about, and ask of, the running edge. */
export interface RuntimeView {
  /** Address provisioning keys carry. */
  readonly advertiseAddress: string;
  /** Live tunnels of this edge. */
  connected(): {
    connectorId: string;
    draining: boolean;
    activeSessions: number;
    remoteAddress: string;
  }[];
  /** Closes a connector's tunnels at once (after it was revoked). */
  disconnect(connectorId: string): void;
  /** Rebuilds pools and virtual servers from the store; rejects when the result cannot run. */
  reload(): Promise<void>;
  /** Prometheus exposition. */
  metrics(): Promise<{ contentType: string; body: string }>;
  ready(): boolean;
  /** Owner of an object in the running configuration (`api`, `document:<file>`), if any. */
  ownerOf(kind: string, name: string): string | undefined;
  /** Objects of a kind that come from configuration documents. */
  documentObjects(kind: string): { spec: object; owner: string }[];
  /** Live status of a pool (node health, panic). */
  poolStatus(name: string): object | undefined;
  /** The configuration importer's status; undefined without --config-dir. */
  importStatus(): ImportStatus | undefined;
}

/** Options of the admin API. */
export interface AdminApiOptions {
  readonly store: Store;
  readonly runtime: RuntimeView;
  readonly adminToken: string;
  readonly logger: Logger;
}

const OBJECT_KINDS = {
  monitors: { kind: 'monitor', schema: monitorSchema },
  certificates: { kind: 'certificate', schema: certificateSchema },
  rules: { kind: 'rule', schema: ruleSchema },
  pools: { kind: 'pool', schema: poolSchema },
  'virtual-servers': { kind: 'virtual_server', schema: virtualServerSchema },
} as const;

/** Builds the admin REST API (`/api/v1`), health endpoints and `/metrics`. */
export function buildAdminApi(options: AdminApiOptions) {
  const { store, runtime } = options;
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'admin-api' }),
    bodyLimit: 1024 * 1024,
  });
  app.setErrorHandler((err, _req, reply) => {
    if ((err as { statusCode?: number }).statusCode === 400) {
      return sendError(reply, controlErrors.badRequest((err as Error).message));
    }
    return sendError(reply, err);
  });
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', (_req, reply) =>
    runtime.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'starting' }),
  );
  app.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await runtime.metrics();
    return reply.type(contentType).send(body);
  });
  app.register(
    (api, _opts, done) => {
      api.addHook('onRequest', (req, _reply, next) => {
        const header = req.headers.authorization ?? '';
        const token = header.startsWith('Bearer ') ? header.slice(7) : '';
        next(
          !token || !sameSecretValue(token, options.adminToken)
            ? controlErrors.unauthorized()
            : undefined,
        );
      });
      registerGroups(api, store);
      registerKeys(api, store, runtime);
      registerConnectors(api, store, runtime);
      api.get('/import/status', () => runtime.importStatus() ?? { enabled: false });
      for (const [path, { kind, schema }] of Object.entries(OBJECT_KINDS)) {
        registerObjects(api, { path, kind, schema, store, runtime });
      }
      done();
    },
    { prefix: '/api/v1' },
  );
  return app;
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    throw controlErrors.badRequest(
      result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    );
  }
  return result.data;
}

type Named = FastifyRequest<{ Params: { name: string } }>;
type ById = FastifyRequest<{ Params: { id: string } }>;

function registerGroups(api: FastifyInstance, store: Store): void {
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

function registerKeys(api: FastifyInstance, store: Store, runtime: RuntimeView): void {
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

function registerConnectors(api: FastifyInstance, store: Store, runtime: RuntimeView): void {
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

function registerObjects(
  api: FastifyInstance,
  o: { path: string; kind: string; schema: z.ZodType; store: Store; runtime: RuntimeView },
): void {
  const { store, kind, runtime } = o;
  const view = (spec: unknown, owner: string): object =>
    objectView(kind, spec as { name: string }, owner, runtime);
  const writable = (name: string): void => {
    const owner = runtime.ownerOf(kind, name);
    if (owner?.startsWith('document:')) throw controlErrors.ownedByDocument(kind, name, owner);
  };
  const apply = async (undo: () => Promise<unknown>): Promise<void> => {
    try {
      await runtime.reload();
    } catch (err) {
      await undo();
      await runtime.reload().catch(() => undefined);
      throw err;
    }
  };
  api.get(`/${o.path}`, async () => ({
    items: [
      ...runtime.documentObjects(kind).map((d) => view(d.spec, d.owner)),
      ...(await store.objects.list({ kind })).map((x) => view(x.spec, x.owner)),
    ],
  }));
  api.get(`/${o.path}/:name`, async (req: Named) => {
    const fromDocument = runtime
      .documentObjects(kind)
      .find((d) => (d.spec as { name: string }).name === req.params.name);
    if (fromDocument) return view(fromDocument.spec, fromDocument.owner);
    const x = await store.objects.get(kind, req.params.name);
    if (!x) throw notFound(kind, req.params.name);
    return view(x.spec, x.owner);
  });
  api.post(`/${o.path}`, async (req, reply) => {
    const spec = parse(o.schema, req.body) as { name: string };
    writable(spec.name);
    checkCertificate(kind, spec);
    await store.objects.create({ kind, name: spec.name, spec: spec });
    await apply(() => store.objects.delete(kind, spec.name));
    return reply.code(201).send(view(spec, 'api'));
  });
  api.put(`/${o.path}/:name`, async (req: Named) => {
    writable(req.params.name);
    const existing = await store.objects.get(kind, req.params.name);
    if (!existing) throw notFound(kind, req.params.name);
    const body = { ...(req.body as object), name: req.params.name };
    const spec = parse(o.schema, body) as { name: string };
    checkCertificate(kind, spec);
    await store.objects.update(kind, spec.name, spec);
    await apply(() => store.objects.update(kind, spec.name, existing.spec));
    return view(spec, 'api');
  });
  api.delete(`/${o.path}/:name`, async (req: Named, reply) => {
    writable(req.params.name);
    const existing = await store.objects.get(kind, req.params.name);
    if (!existing) throw notFound(kind, req.params.name);
    await store.objects.delete(kind, req.params.name);
    await apply(() => store.objects.create({ kind, name: existing.name, spec: existing.spec }));
    return reply.code(204).send();
  });
}

/** An object as the API shows it: private keys never leave the edge; pools carry live status. */
function objectView(
  kind: string,
  spec: { name: string },
  owner: string,
  runtime: RuntimeView,
): object {
  if (kind === 'certificate') return { ...spec, key: '[redacted]', owner };
  if (kind === 'pool') return { ...spec, owner, status: runtime.poolStatus(spec.name) };
  return { ...spec, owner };
}

/** A certificate created through the API must match its key, as at import. */
function checkCertificate(kind: string, spec: object): void {
  if (kind !== 'certificate') return;
  const config = { certificates: [spec] } as unknown as Configuration;
  const problems = certificateProblems(config);
  if (problems.length > 0) {
    throw controlErrors.badRequest(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  }
}

const LIST_COMMANDS: Record<string, string> = {
  'connector group': 'postern groups list',
  'provisioning key': 'postern keys list',
  connector: 'postern connectors list',
  pool: 'GET /api/v1/pools',
  virtual_server: 'GET /api/v1/virtual-servers',
};

function notFound(kind: string, name: string): Error {
  return StoreErrors.notFound(kind, name, LIST_COMMANDS[kind] ?? 'the admin API');
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function groupView(g: {
  name: string;
  description?: string;
  autoDeleteAfterDays?: number;
  owner: string;
}) {
  return {
    name: g.name,
    description: g.description,
    auto_delete_after_days: g.autoDeleteAfterDays,
    owner: g.owner,
  };
}

function keyView(k: ProvisioningKeyRecord) {
  return {
    id: k.id,
    group: k.group,
    max_usage: k.maxUsage,
    usage_count: k.usageCount,
    expires_at: iso(k.expiresAt),
    source_cidrs: k.sourceCidrs,
    enabled: k.enabled,
    revoked: k.revoked,
    created_at: iso(k.createdAt),
  };
}

function connectorView(
  c: ConnectorRecord,
  live: ReturnType<RuntimeView['connected']>[number] | undefined,
) {
  return {
    id: c.id,
    group: c.group,
    key_id: c.keyId,
    ephemeral: c.ephemeral,
    status: c.revoked
      ? 'revoked'
      : live
        ? live.draining
          ? 'draining'
          : 'connected'
        : 'disconnected',
    version: c.version,
    private_ip: c.privateIp,
    public_ip: c.publicIp,
    remote_address: live?.remoteAddress,
    active_sessions: live?.activeSessions ?? 0,
    cert_serial: c.certSerial,
    cert_not_after: iso(c.certNotAfter),
    last_seen_at: iso(c.lastSeenAt),
    created_at: iso(c.createdAt),
  };
}
