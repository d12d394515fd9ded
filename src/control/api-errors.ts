import type { FastifyReply } from 'fastify';
import { isPosternError } from '../core/index.js';

/** HTTP status of each error code the admin API can return; anything else is a 500. */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  POSTERN_ERR_BAD_REQUEST: 400,
  POSTERN_ERR_CONFIG_INVALID: 400,
  POSTERN_ERR_INVALID_ARGUMENT: 400,
  POSTERN_ERR_CONFIG_REFERENCE: 400,
  POSTERN_ERR_UNAUTHORIZED: 401,
  POSTERN_ERR_READ_ONLY: 403,
  POSTERN_ERR_NOT_FOUND: 404,
  POSTERN_ERR_CONNECTOR_UNKNOWN: 404,
  POSTERN_ERR_KEY_UNKNOWN: 404,
  POSTERN_ERR_CONFLICT: 409,
  POSTERN_ERR_LISTEN_FAILED: 409,
  POSTERN_ERR_KEY_REVOKED: 409,
  POSTERN_ERR_CONNECTOR_REVOKED: 409,
  POSTERN_ERR_INVALID_PAGE_TOKEN: 400,
  POSTERN_ERR_POLICY_ORDER: 400,
  POSTERN_ERR_FORBIDDEN: 403,
  POSTERN_ERR_PRECONDITION_FAILED: 412,
  POSTERN_ERR_BODY_TOO_LARGE: 413,
  POSTERN_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  POSTERN_ERR_PRECONDITION_REQUIRED: 428,
};

/** Sends the one error body shape of the admin API: `{ error: { code, message } }`. */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (isPosternError(err)) {
    const status = STATUS_BY_CODE[err.code] ?? 500;
    const problems = (err as { problems?: unknown }).problems;
    return reply
      .code(status)
      .send({ error: { code: err.code, message: err.message, ...(problems ? { problems } : {}) } });
  }
  reply.log.error({ err }, 'admin API request failed');
  return reply.code(500).send({
    error: { code: 'POSTERN_ERR_INTERNAL', message: 'Internal error; see the edge log.' },
  });
}
