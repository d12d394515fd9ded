import type { FastifyInstance } from 'fastify';
import { applicationSchema, type Application } from '../config/index.js';
import { StoreErrors, type JsonValue, type Store } from '../store/index.js';
import { parse } from './api-request.js';
import { promoteDiscoveredSchema } from './application-health-view.js';
import type { AccessDiscoveredApplication } from './discovered-applications-route.js';
import { withEtag } from './etag.js';
import type { RuntimeView } from './runtime-view.js';

/**
 * `POST /discovered-applications/promote` `{ name, application_name }`: turns a name users
 * reached under a wildcard application into a defined application (owned by the API) with that
 * exact domain, the ports it was reached on and the wildcard application's connector groups.
 * 201 with the application; 404 when the name was not discovered; 409 when the application
 * exists or another application already lists that exact domain.
 */
export function registerPromoteDiscovered(
  api: FastifyInstance,
  deps: { store: Store; runtime: RuntimeView },
): void {
  const { store, runtime } = deps;
  api.post('/discovered-applications/promote', async (req, reply) => {
    const body = parse(promoteDiscoveredSchema, req.body);
    const name = body.name.toLowerCase().replace(/\.$/, '');
    const found = (runtime.discoveredApplications?.().items ?? []).filter(
      (a): a is AccessDiscoveredApplication => a.source === 'access' && a.name === name,
    );
    const latest = found.reduce<AccessDiscoveredApplication | undefined>(
      (best, a) => (best === undefined || a.last_seen_at > best.last_seen_at ? a : best),
      undefined,
    );
    if (latest === undefined) {
      throw StoreErrors.notFound(
        'discovered application',
        name,
        'GET /api/v1/discovered-applications',
      );
    }
    const applications = await allApplications(store, runtime);
    if (applications.some((a) => a.name === body.application_name)) {
      throw StoreErrors.conflict(
        `application "${body.application_name}" already exists. Choose another application_name.`,
      );
    }
    const holder = applications.find((a) => a.domains.some((d) => d.toLowerCase() === name));
    if (holder !== undefined) {
      throw StoreErrors.conflict(
        `"${name}" is already defined by application "${holder.name}". Edit that application instead.`,
      );
    }
    const wildcard = applications.find((a) => a.name === latest.application);
    const ports = [
      ...new Set(found.filter((a) => a.application === latest.application).map((a) => a.port)),
    ];
    const spec = parse(applicationSchema, {
      name: body.application_name,
      description: `Promoted from ${name}, discovered under ${latest.application}.`,
      domains: [name],
      ports: ports.sort((a, b) => a - b).map(String),
      connector_groups: wildcard?.connector_groups ?? [latest.group],
    });
    await store.objects.create({
      kind: 'application',
      name: spec.name,
      spec: spec as unknown as JsonValue,
    });
    try {
      await runtime.reload();
    } catch (err) {
      await store.objects.delete('application', spec.name);
      await runtime.reload().catch(() => undefined);
      throw err;
    }
    const health = runtime.applicationHealth?.(spec.name);
    return reply
      .code(201)
      .send(withEtag({ ...spec, owner: 'api', ...(health === undefined ? {} : { health }) }));
  });
}

async function allApplications(store: Store, runtime: RuntimeView): Promise<Application[]> {
  const stored = await store.objects.list({ kind: 'application' });
  return [
    ...runtime.documentObjects('application').map((d) => d.spec as Application),
    ...stored.map((o) => o.spec as unknown as Application),
  ];
}
