import { z } from 'zod';
import {
  accessPolicySchema,
  applicationSchema,
  certificateSchema,
  connectorGroupSchema,
  logReceiverSchema,
  monitorSchema,
  poolSchema,
  provisioningKeyCreateSchema,
  ruleSchema,
  virtualServerSchema,
} from '../config/index.js';
import { policyOrderSchema } from './access-policy-order.js';
import { adminTokenCreateSchema } from './admin-token-routes.js';
import { applicationHealthViewSchema, promoteDiscoveredSchema } from './application-health-view.js';
import { provisioningKeyPatchSchema } from './api-routes.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './pagination.js';
import { poolStatusViewSchema } from './pool-status-view.js';
import { userRevocationCreateSchema } from './user-revocation-routes.js';

/** A route as the admin API registered it. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
}

/** The request body schema of each collection, by its path under /api/v1. */
const BODIES: Readonly<Record<string, { name: string; schema: z.ZodType }>> = {
  '/connector-groups': { name: 'ConnectorGroup', schema: connectorGroupSchema },
  '/provisioning-keys': { name: 'ProvisioningKeyCreate', schema: provisioningKeyCreateSchema },
  '/monitors': { name: 'Monitor', schema: monitorSchema },
  '/certificates': { name: 'Certificate', schema: certificateSchema },
  '/rules': { name: 'Rule', schema: ruleSchema },
  '/pools': { name: 'Pool', schema: poolSchema },
  '/virtual-servers': { name: 'VirtualServer', schema: virtualServerSchema },
  '/log-receivers': { name: 'LogReceiver', schema: logReceiverSchema },
  '/applications': { name: 'Application', schema: applicationSchema },
  '/access-policies': { name: 'AccessPolicy', schema: accessPolicySchema },
  '/admin-tokens': { name: 'AdminTokenCreate', schema: adminTokenCreateSchema },
};

/** Bodies of routes that do not take their collection's object, by `<method> <path>`. */
const ROUTE_BODIES: Readonly<Record<string, { name: string; schema: z.ZodType }>> = {
  'put /api/v1/access-policies/order': { name: 'PolicyOrder', schema: policyOrderSchema },
  'post /api/v1/discovered-applications/promote': {
    name: 'PromoteDiscovered',
    schema: promoteDiscoveredSchema,
  },
  'patch /api/v1/provisioning-keys/{id}': {
    name: 'ProvisioningKeyPatch',
    schema: provisioningKeyPatchSchema,
  },
  'post /api/v1/user-revocations': {
    name: 'UserRevocationCreate',
    schema: userRevocationCreateSchema,
  },
};

/** How GET shows a virtual server's `status` (see RuntimeView.virtualServerStatus). */
const virtualServerStatusViewSchema = z
  .object({
    listening: z.boolean(),
    disabled: z.literal(true).optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    since: z.iso.datetime().optional(),
  })
  .describe(
    'Whether the server listens; not when disabled, nor when it could not bind its address ' +
      '(an API server whose address was taken when the edge started: error and since say why).',
  );

/** Schemas published for clients although no route takes them yet. */
const EXTRA_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  /** The read-only `health` of applications in GET /api/v1/applications[/{name}]. */
  ApplicationHealth: applicationHealthViewSchema,
  /** The read-only `status` of pools in GET /api/v1/pools[/{name}]; times are ISO 8601. */
  PoolStatus: poolStatusViewSchema,
  /** The read-only `status` of virtual servers in GET /api/v1/virtual-servers[/{name}]. */
  VirtualServerStatus: virtualServerStatusViewSchema,
};

const PAGE_SCHEMA = {
  type: 'object',
  required: ['items'],
  properties: {
    items: { type: 'array', items: { type: 'object' } },
    next_page_token: {
      type: 'string',
      description: 'Pass as page_token for the next page; absent on the last page.',
    },
  },
};

const PAGE_PARAMETERS = [
  {
    name: 'limit',
    in: 'query',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT },
  },
  {
    name: 'page_token',
    in: 'query',
    required: false,
    description: 'The next_page_token of the previous page (opaque).',
    schema: { type: 'string' },
  },
];

const AUDIT_PARAMETERS = [
  { name: 'kind', in: 'query', required: false, schema: { type: 'string' } },
  { name: 'actor', in: 'query', required: false, schema: { type: 'string' } },
  { name: 'since', in: 'query', required: false, schema: { type: 'string', format: 'date-time' } },
  { name: 'until', in: 'query', required: false, schema: { type: 'string', format: 'date-time' } },
];

const IF_MATCH = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description:
    'The ETag of the object as last read; 412 when it changed since. Required (428) on edges started with --admin-require-if-match.',
  schema: { type: 'string' },
};

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'A POSTERN_ERR_* code (docs/errors.md).' },
        message: { type: 'string', description: 'What happened and how to fix it.' },
        problems: { type: 'array', items: { type: 'object' } },
      },
    },
  },
};

/**
 * The OpenAPI 3.1 document of the admin API, made from the routes the server registered and
 * the same zod schemas that validate request bodies and configuration documents.
 */
export function buildOpenApiDocument(routes: readonly RegisteredRoute[], version: string): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    if (!route.url.startsWith('/api/v1/') || route.url.endsWith('/openapi.json')) continue;
    const method = route.method.toLowerCase();
    if (method === 'head') continue;
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    (paths[path] ??= {})[method] = operation(method, path);
  }
  const schemas: Record<string, unknown> = { Error: ERROR_SCHEMA, Page: PAGE_SCHEMA };
  for (const { name, schema } of Object.values(BODIES)) schemas[name] = toSchema(schema);
  for (const { name, schema } of Object.values(ROUTE_BODIES)) schemas[name] = toSchema(schema);
  for (const [name, schema] of Object.entries(EXTRA_SCHEMAS)) schemas[name] = toSchema(schema);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Postern admin API',
      version,
      description:
        'Connector groups, provisioning keys, connectors and the traffic manager objects.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas,
    },
  };
}

function toSchema(schema: z.ZodType): unknown {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

function operation(method: string, path: string): object {
  const params: object[] = [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const collection = `/${path.split('/')[3] ?? ''}`;
  const isList = method === 'get' && path.split('/').length === 4 && path !== '/api/v1/audit-log';
  if (isList || path === '/api/v1/audit-log') params.push(...PAGE_PARAMETERS);
  if (path === '/api/v1/audit-log') params.push(...AUDIT_PARAMETERS);
  const replaces = method === 'put' || method === 'patch' || method === 'delete';
  if (replaces) params.push(IF_MATCH);
  const success =
    method === 'delete'
      ? '204'
      : path.endsWith('/drain')
        ? '202'
        : method === 'post' && params.length === 0
          ? '201'
          : '200';
  const lists = isList || path === '/api/v1/audit-log';
  return {
    ...(params.length > 0 ? { parameters: params } : {}),
    ...requestBody(method, path, collection),
    responses: {
      [success]: {
        description: success === '204' ? 'Done.' : lists ? 'One page of the list.' : 'The object.',
        ...(lists
          ? { content: { 'application/json': { schema: { $ref: '#/components/schemas/Page' } } } }
          : {}),
        ...(method === 'get' && !lists
          ? {
              headers: {
                ETag: {
                  description: 'Send it in If-Match to change the object.',
                  schema: { type: 'string' },
                },
              },
            }
          : {}),
      },
      // Configuration objects and connector groups (the deletes by name) are refused in use.
      ...(method === 'delete' && path.endsWith('/{name}')
        ? {
            '409': errorResponse(
              'Still in use: by objects of the configuration (each in problems), or a group by ' +
                'live connectors; nothing was deleted.',
            ),
          }
        : {}),
      ...(replaces
        ? {
            '412': errorResponse('The object changed since its ETag was read.'),
            '428': errorResponse('This edge requires If-Match.'),
          }
        : {}),
      default: errorResponse('An error with its POSTERN_ERR_* code.'),
    },
  };
}

function errorResponse(description: string): object {
  return {
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
}

function requestBody(method: string, path: string, collection: string): object {
  const special = ROUTE_BODIES[`${method} ${path}`];
  const body = special ?? BODIES[collection];
  const takes =
    (method === 'post' || method === 'put' || method === 'patch') &&
    body !== undefined &&
    !/\/(revoke|enable|disable|drain|undrain)$/.test(path) &&
    (special !== undefined || !path.endsWith('/order'));
  if (!takes) return {};
  const schema =
    method === 'patch' && special === undefined
      ? {
          type: 'object',
          description: `A JSON merge patch (RFC 7396) of ${body.name}: fields given replace, null removes.`,
        }
      : { $ref: `#/components/schemas/${body.name}` };
  const content: Record<string, { schema: object }> = { 'application/json': { schema } };
  if (method === 'patch') content['application/merge-patch+json'] = { schema };
  return { requestBody: { required: true, content } };
}
