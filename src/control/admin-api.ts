import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import {
  accessPolicySchema,
  applicationSchema,
  certificateSchema,
  identityProviderSchema,
  logReceiverSchema,
  monitorSchema,
  poolSchema,
  ruleSchema,
  virtualServerSchema,
} from '../config/index.js';
import { systemClock, type Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import {
  orderAccessPolicies,
  POLICY_ORDER_KIND,
  registerPolicyOrder,
} from './access-policy-order.js';
import { registerAuth } from './admin-auth.js';
import { adminSignInRoutes } from './admin-sign-in-routes.js';
import type { AdminSignIn } from './identity/index.js';
import { registerAdminTokens } from './admin-token-routes.js';
import { registerUserRevocations } from './user-revocation-routes.js';
import { AuditLog, type AuditHook } from './audit.js';
import { registerAuditHooks } from './audit-hooks.js';
import { registerAuditLog } from './audit-log-route.js';
import { registerActivityRoutes, type ActivityLog } from './activity/index.js';
import { fastifyErrorOptions, jsonBodyParser, sendError } from './api-errors.js';
import { registerObjects } from './api-objects.js';
import { registerConnectors, registerGroups, registerKeys } from './api-routes.js';
import { consoleRoutes, defaultConsoleDir } from './console-static.js';
import { controlErrors } from './errors.js';
import { registerDiscoveredApplications } from './discovered-applications-route.js';
import { registerPromoteDiscovered } from './discovered-promote-route.js';
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
  /** The built web console served at `/console/`; default the one beside the installed package. */
  readonly consoleDir?: string | undefined;
  /** The user activity log served at `GET /api/v1/activity`; absent means the route is not offered. */
  readonly activity?: ActivityLog | undefined;
  /** Called with each audit record once stored (for log streaming); must not throw. */
  readonly onAudit?: AuditHook | undefined;
  /** When true, PUT, PATCH and DELETE without `If-Match` are refused with 428. Default false. */
  readonly requireIfMatch?: boolean | undefined;
  /** Time of token checks and audit records; default the system clock. */
  readonly clock?: Clock | undefined;
  /** The edge's JWK set, served without a token at /api/v1/jwks.json. */
  readonly jwks?: (() => object) | undefined;
  /** Console sign-in with an identity provider; absent: admin tokens only. */
  readonly adminSignIn?: AdminSignIn | undefined;
}

const OBJECT_KINDS = {
  monitors: { kind: 'monitor', schema: monitorSchema },
  certificates: { kind: 'certificate', schema: certificateSchema },
  rules: { kind: 'rule', schema: ruleSchema },
  pools: { kind: 'pool', schema: poolSchema },
  'virtual-servers': { kind: 'virtual_server', schema: virtualServerSchema },
  'log-receivers': { kind: 'log_receiver', schema: logReceiverSchema },
  'identity-providers': { kind: 'identity_provider', schema: identityProviderSchema },
  applications: { kind: 'application', schema: applicationSchema },
  'access-policies': { kind: 'access_policy', schema: accessPolicySchema },
} as const;

/** Builds the admin REST API (`/api/v1`), health endpoints and `/metrics`. */
export function buildAdminApi(options: AdminApiOptions) {
  const { store, runtime } = options;
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'admin-api' }),
    bodyLimit: 1024 * 1024,
    // One line per request (below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Fastify's own refusals (bad or too long a URL, too large a head) in the API's error body.
    ...fastifyErrorOptions,
  });
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info(
      {
        method: req.method,
        url: req.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'admin request',
    );
    done();
  });
  // PATCH bodies are JSON merge patches (RFC 7396); clients that say so are read as JSON.
  const jsonParser = jsonBodyParser(app.getDefaultJsonParser('error', 'error'));
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, jsonParser);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonParser);
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  // Published without a token: it holds no secrets, and API tools fetch it before logging in.
  // The JWK set that verifies user tokens and app assertions: public keys only, so no token.
  const jwks = options.jwks;
  if (jwks) app.get('/api/v1/jwks.json', () => jwks());
  app.get('/api/v1/openapi.json', () => buildOpenApiDocument(routes, options.version ?? '0.0.0'));
  app.setErrorHandler((err, req, reply) => {
    // Fastify's own refusals (bad JSON, wrong content type, too large) get a POSTERN code too.
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 413) return sendError(reply, controlErrors.bodyTooLarge());
    if (status === 415) {
      const type = String(req.headers['content-type'] ?? '').split(';')[0] ?? '';
      return sendError(reply, controlErrors.unsupportedMediaType(type.trim()));
    }
    if (status !== undefined && status >= 400 && status < 500 && !isPosternCoded(err)) {
      return sendError(reply, controlErrors.badRequest((err as Error).message));
    }
    return sendError(reply, err);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, controlErrors.routeNotFound(req.method, req.url.split('?')[0] ?? req.url)),
  );
  const clock = options.clock ?? systemClock;
  const audit = new AuditLog({ store, logger: options.logger, onAudit: options.onAudit });
  app.register(consoleRoutes, { dir: options.consoleDir ?? defaultConsoleDir() });
  app.register(adminSignInRoutes, { signIn: options.adminSignIn });
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', (_req, reply) =>
    runtime.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'starting' }),
  );
  app.get('/readyz/tunnels', (_req, reply) => {
    const groups = runtime.tunnelsByGroup?.() ?? {};
    const missing = Object.keys(groups).filter((g) => (groups[g] ?? 0) === 0);
    if (!runtime.ready()) return reply.code(503).send({ status: 'starting', groups });
    if (missing.length > 0) return reply.code(503).send({ status: 'no_tunnel', missing, groups });
    return { status: 'ready', groups };
  });
  app.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await runtime.metrics();
    return reply.type(contentType).send(body);
  });
  app.register(
    (api, _opts, done) => {
      registerAuth(api, {
        store,
        bootstrapToken: options.adminToken,
        clock,
        adminUsers: options.adminSignIn,
      });
      registerAuditHooks(api, { audit, requireIfMatch: options.requireIfMatch === true });
      registerAuditLog(api, store);
      registerAdminTokens(api, store);
      registerUserRevocations(api, { store, clock });
      registerPolicyOrder(api, store, runtime);
      registerGroups(api, store, runtime);
      registerKeys(api, store, runtime);
      registerConnectors(api, store, runtime);
      if (options.activity) registerActivityRoutes(api, options.activity);
      api.get('/import/status', () => runtime.importStatus() ?? { enabled: false });
      registerDiscoveredApplications(api, runtime.discoveredApplications?.bind(runtime));
      registerPromoteDiscovered(api, { store, runtime });
      for (const [path, { kind, schema }] of Object.entries(OBJECT_KINDS)) {
        const order =
          kind === 'access_policy'
            ? async (objects: Parameters<typeof orderAccessPolicies>[0]) =>
                orderAccessPolicies([
                  ...(await store.objects.list({ kind: POLICY_ORDER_KIND })),
                  ...objects,
                ]).filter((o) => o.kind === kind)
            : undefined;
        registerObjects(api, { path, kind, schema, store, runtime, ...(order ? { order } : {}) });
      }
      done();
    },
    { prefix: '/api/v1' },
  );
  return app;
}

function isPosternCoded(err: unknown): boolean {
  return (
    typeof (err as { code?: unknown }).code === 'string' &&
    String((err as { code: string }).code).startsWith('POSTERN_ERR_')
  );
}

export type { RuntimeView, VirtualServerStatus } from './runtime-view.js';
