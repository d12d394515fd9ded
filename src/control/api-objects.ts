import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { Configuration } from '../config/index.js';
import type { JsonValue, Store, StoredObject } from '../store/index.js';
import type { RuntimeView } from './runtime-view.js';
import { notFound, parse, type Named } from './api-request.js';
import { controlErrors } from './errors.js';
import { sendTagged, withEtag } from './etag.js';
import { paginate, type PageQuery } from './pagination.js';
import { poolStatusView } from './pool-status-view.js';
import { certificateProblems } from './importer/index.js';
import { collectionOfKind } from './api-collections.js';
import { deleteProblems } from './delete-users.js';

/** CRUD routes for one kind of configuration object, honouring document ownership. */
export function registerObjects(
  api: FastifyInstance,
  o: {
    path: string;
    kind: string;
    schema: z.ZodType;
    store: Store;
    runtime: RuntimeView;
    /** Puts API objects in an explicit order (access policies); default by name. */
    order?: (objects: StoredObject[]) => Promise<StoredObject[]>;
  },
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
  api.get(`/${o.path}`, async (req) => {
    const stored = await store.objects.list({ kind });
    const items = [
      ...runtime.documentObjects(kind).map((d) => view(d.spec, d.owner)),
      ...(o.order ? await o.order(stored) : stored).map((x) => view(x.spec, x.owner)),
    ].map((v) => withEtag(v));
    return paginate(items, req.query as PageQuery, {
      list: o.path,
      key: (v) => (v as unknown as { name: string }).name,
      order: o.order ? 'given' : 'key',
    });
  });
  api.get(`/${o.path}/:name`, async (req: Named, reply) => {
    const fromDocument = runtime
      .documentObjects(kind)
      .find((d) => (d.spec as { name: string }).name === req.params.name);
    if (fromDocument) return sendTagged(reply, view(fromDocument.spec, fromDocument.owner));
    const x = await store.objects.get(kind, req.params.name);
    if (!x) throw notFound(kind, req.params.name);
    return sendTagged(reply, view(x.spec, x.owner));
  });
  api.post(`/${o.path}`, async (req, reply) => {
    const spec = parse(o.schema, req.body) as { name: string };
    writable(spec.name);
    checkCertificate(kind, spec);
    await store.objects.create({ kind, name: spec.name, spec: spec });
    await apply(() => store.objects.delete(kind, spec.name));
    return reply.code(201).send(withEtag(view(spec, 'api')));
  });
  api.put(`/${o.path}/:name`, async (req: Named) => {
    writable(req.params.name);
    const existing = await store.objects.get(kind, req.params.name);
    if (!existing) throw notFound(kind, req.params.name);
    const body = keepSecret(
      kind,
      { ...(req.body as object), name: req.params.name },
      existing.spec,
    );
    const spec = parse(o.schema, body) as { name: string };
    checkCertificate(kind, spec);
    await store.objects.update(kind, spec.name, spec);
    await apply(() => store.objects.update(kind, spec.name, existing.spec));
    return withEtag(view(spec, 'api'));
  });
  // PATCH is a JSON merge patch (RFC 7396) of the stored object; the result is validated whole.
  api.patch(`/${o.path}/:name`, async (req: Named) => {
    writable(req.params.name);
    const existing = await store.objects.get(kind, req.params.name);
    if (!existing) throw notFound(kind, req.params.name);
    const merged = mergePatch(existing.spec, req.body as JsonValue);
    const spec = parse(o.schema, { ...(merged as object), name: req.params.name }) as {
      name: string;
    };
    checkCertificate(kind, spec);
    await store.objects.update(kind, spec.name, spec);
    await apply(() => store.objects.update(kind, spec.name, existing.spec));
    return withEtag(view(spec, 'api'));
  });
  // Refused while the configuration in force uses the object, as a connector group's delete
  // is: 409 naming each user. The reload's own check stays the last word.
  api.delete(`/${o.path}/:name`, async (req: Named, reply) => {
    writable(req.params.name);
    const existing = await store.objects.get(kind, req.params.name);
    if (!existing) throw notFound(kind, req.params.name);
    const collection = collectionOfKind(kind);
    if (collection !== undefined) {
      const problems = await deleteProblems(store, runtime, { collection, name: existing.name });
      const what = kind.replaceAll('_', ' ');
      if (problems.length > 0) throw controlErrors.objectInUse(what, existing.name, problems);
    }
    await store.objects.delete(kind, req.params.name);
    await apply(() => store.objects.create({ kind, name: existing.name, spec: existing.spec }));
    return reply.code(204).send();
  });
}

/**
 * An object as the API shows it: private keys never leave the edge; pools and virtual servers
 * carry live status.
 */
function objectView(
  kind: string,
  spec: { name: string },
  owner: string,
  runtime: RuntimeView,
): object {
  if (kind === 'certificate') return { ...spec, key: '[redacted]', owner };
  if (kind === 'pool') {
    const status = runtime.poolStatus(spec.name);
    return { ...spec, owner, status: status && poolStatusView(status) };
  }
  if (kind === 'virtual_server') {
    const status = runtime.virtualServerStatus?.(spec.name);
    if (status === undefined) return { ...spec, owner };
    const since = status.since === undefined ? {} : { since: new Date(status.since).toISOString() };
    return { ...spec, owner, status: { ...status, ...since } };
  }
  if (kind === 'application' && runtime.applicationHealth) {
    const health = runtime.applicationHealth(spec.name);
    return health === undefined ? { ...spec, owner } : { ...spec, owner, health };
  }
  // The client secret never leaves the edge; its presence is shown so admins can tell.
  if (kind === 'identity_provider' && 'client_secret' in spec) {
    return { ...spec, client_secret: '[redacted]', owner };
  }
  if (kind === 'log_receiver') {
    const tls = (spec as { tls?: { key?: string } }).tls;
    if (tls?.key !== undefined) return { ...spec, tls: { ...tls, key: '[redacted]' }, owner };
  }
  return { ...spec, owner };
}

/** Applies a JSON merge patch (RFC 7396): objects merge, `null` removes, anything else replaces. */
export function mergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: Record<string, JsonValue> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key] ?? null, value);
  }
  return base;
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

/** A PUT that sends back an identity provider's `[redacted]` client secret keeps the stored one. */
function keepSecret(kind: string, body: Record<string, unknown>, stored: unknown): object {
  if (kind !== 'identity_provider' || body['client_secret'] !== '[redacted]') return body;
  return { ...body, client_secret: (stored as { client_secret?: unknown }).client_secret };
}
