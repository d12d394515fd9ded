import Fastify from 'fastify';
import type { Logger } from 'pino';
import {
  certificateSchema,
  monitorSchema,
  poolSchema,
  ruleSchema,
  virtualServerSchema,
} from '../config/index.js';
import { sameSecretValue } from '../pki/index.js';
import type { Store } from '../store/index.js';
import { sendError } from './api-errors.js';
import { registerObjects } from './api-objects.js';
import { registerConnectors, registerGroups, registerKeys } from './api-routes.js';
import { controlErrors } from './errors.js';
import { buildOpenApiDocument, type RegisteredRoute } from './openapi.js';
import type { RuntimeView } from './runtime-view.js';

/** Options of the admin API. */
export interface AdminApiOptions {
  readonly store: Store;
  readonly runtime: RuntimeView;
  readonly adminToken: string;
  readonly logger: Logger;
  /** Shown in the OpenAPI document. */
  readonly version?: string | undefined;
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
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  // Published without a token: it holds no secrets, and API tools fetch it before logging in.
  app.get('/api/v1/openapi.json', () => buildOpenApiDocument(routes, options.version ?? '0.0.0'));
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

export type { RuntimeView } from './runtime-view.js';
