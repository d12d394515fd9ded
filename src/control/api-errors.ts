import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isPosternError } from '../core/index.js';
import { controlErrors } from './errors.js';

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
  POSTERN_ERR_API_URL_TOO_LONG: 414,
  POSTERN_ERR_API_HEADERS_TOO_LARGE: 431,
  POSTERN_ERR_API_REQUEST_TIMEOUT: 408,
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

/** The admin API's error for one of Fastify's routing refusals; never echoes the URL. */
function frameworkError(err: { code?: string }): Error {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return controlErrors.apiUrlTooLong();
  if (err.code === 'FST_ERR_BAD_URL') {
    return controlErrors.badRequest(
      'its path is not valid percent-encoding (each % must be followed by two hex digits forming UTF-8)',
    );
  }
  return controlErrors.badRequest('the request could not be routed');
}

/**
 * Fastify options that give its own refusals — a malformed or too long path, a request head
 * over the size limit, a request not read in time — the admin API's error body.
 */
export const fastifyErrorOptions = {
  frameworkErrors(err: Error, _req: FastifyRequest, reply: FastifyReply): void {
    void sendError(reply, frameworkError(err as { code?: string }));
  },
  clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const error =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? controlErrors.apiHeadersTooLarge()
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? controlErrors.apiRequestTimeout()
          : controlErrors.badRequest('it is not valid HTTP/1.1');
    const status = STATUS_BY_CODE[error.code] ?? 400;
    const body = JSON.stringify({ error: { code: error.code, message: error.message } });
    if (socket.writable) {
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Bad Request'}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    setTimeout(() => socket.destroy(), 1000).unref();
  },
};

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

type JsonParser = (
  req: FastifyRequest,
  body: string,
  done: (err: Error | null, body?: unknown) => void,
) => void;

/**
 * Fastify's JSON parser (which refuses prototype poisoning), telling a body refused for a
 * `__proto__` or `constructor.prototype` key apart from one that is not JSON at all.
 */
export function jsonBodyParser(parse: JsonParser): JsonParser {
  return (req, body, done) => {
    parse(req, body, (err, value) => {
      if (err && (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        return done(
          isJson(body) ? poisonedBody() : controlErrors.badRequest('the body is not valid JSON'),
        );
      }
      done(err, value);
    });
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function poisonedBody(): Error {
  return controlErrors.badRequest(
    'keys named __proto__ or constructor (with a prototype) are not accepted in a body, as they could change object prototypes; rename or remove them',
  );
}
