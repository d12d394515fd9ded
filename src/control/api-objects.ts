import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { Configuration } from '../config/index.js';
import type { Store } from '../store/index.js';
import type { RuntimeView } from './runtime-view.js';
import { notFound, parse, type Named } from './api-request.js';
import { controlErrors } from './errors.js';
import { certificateProblems } from './importer/index.js';

/** CRUD routes for one kind of configuration object, honouring document ownership. */
export function registerObjects(
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
