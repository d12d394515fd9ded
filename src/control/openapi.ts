import { z } from 'zod';
import {
  accessPolicySchema,
  applicationSchema,
  certificateSchema,
  connectorGroupSchema,
  monitorSchema,
  poolSchema,
  provisioningKeyCreateSchema,
  ruleSchema,
  virtualServerSchema,
} from '../config/index.js';

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
};

/** Schemas published for clients although no route takes them yet. */
const EXTRA_SCHEMAS = { Application: applicationSchema, AccessPolicy: accessPolicySchema };

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
  const schemas: Record<string, unknown> = { Error: ERROR_SCHEMA };
  for (const { name, schema } of Object.values(BODIES)) schemas[name] = toSchema(schema);
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
  const params = [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const collection = `/${path.split('/')[3] ?? ''}`;
  const body = BODIES[collection];
  const takesBody =
    (method === 'post' || method === 'put') && body && !/\/(revoke|enable|disable)$/.test(path);
  const success =
    method === 'delete' ? '204' : method === 'post' && params.length === 0 ? '201' : '200';
  return {
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(takesBody
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { $ref: `#/components/schemas/${body.name}` } },
            },
          },
        }
      : {}),
    responses: {
      [success]: { description: success === '204' ? 'Done.' : 'The object or list.' },
      default: {
        description: 'An error with its POSTERN_ERR_* code.',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    },
  };
}
