import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { issueMessage } from '../config/index.js';
import { StoreErrors } from '../store/index.js';
import { controlErrors } from './errors.js';

/**
 * Validates a request body against an object schema; every problem is reported at once, worded
 * as for configuration documents (an unknown field names the one it most likely misspells).
 */
export function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {}, { error: issueMessage });
  if (!result.success) {
    throw controlErrors.badRequest(
      result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    );
  }
  return result.data;
}

/** A request naming an object. */
export type Named = FastifyRequest<{ Params: { name: string } }>;
/** A request naming a record by id. */
export type ById = FastifyRequest<{ Params: { id: string } }>;

const LIST_COMMANDS: Record<string, string> = {
  'connector group': 'postern groups list',
  'provisioning key': 'postern keys list',
  connector: 'postern connectors list',
  'admin token': 'postern tokens list',
  access_policy: 'GET /api/v1/access-policies',
  application: 'GET /api/v1/applications',
  pool: 'postern pools list',
  virtual_server: 'GET /api/v1/virtual-servers',
};

/** The not-found error of the admin API, naming how to list what exists. */
export function notFound(kind: string, name: string): Error {
  return StoreErrors.notFound(kind, name, LIST_COMMANDS[kind] ?? 'the admin API');
}
