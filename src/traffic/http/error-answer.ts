import { STATUS_CODES } from 'node:http';
import { isPosternError } from '../../core/index.js';
import { errorBody, errorCodeOf } from './error-response.js';
import type { HttpErrorPage, TrafficLogger } from './http-options.js';
import { nextRequestId } from './request-ids.js';

/** What an error body tells the client about an upstream failure (see HttpVirtualServerOptions). */
export type ErrorDetail = 'minimal' | 'full';

/** A custom page split around its `{request_id}` placeholders, ready to join with an id. */
export interface CompiledErrorPage {
  readonly parts: readonly string[];
  readonly contentType: string;
}

/** What a virtual server's error answers need: the detail level, pages, logger and name. */
export interface ErrorAnswerSettings {
  readonly name: string;
  readonly errorDetail: ErrorDetail;
  readonly errorPages: ReadonlyMap<number, CompiledErrorPage>;
  readonly logger: TrafficLogger | undefined;
}

/** An error response ready to write, and the request id its body and log line carry. */
export interface ErrorAnswer {
  readonly requestId: string;
  readonly headers: string[];
  readonly body: string;
}

const PLACEHOLDER = '{request_id}';
const DEFAULT_PAGE_TYPE = 'text/html; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const USER_SENTENCE =
  'The service is temporarily unavailable. If this persists, give the request id to the operator.';

// Errors in the client's own request: their message describes that request (a limit, a bad
// field), never a node, pool or group, so every detail level keeps it for the client to fix.
const CLIENT_CODES: ReadonlySet<string> = new Set([
  'POSTERN_ERR_BAD_REQUEST',
  'POSTERN_ERR_HEADERS_TOO_LARGE',
  'POSTERN_ERR_URI_TOO_LONG',
  'POSTERN_ERR_TOO_MANY_HEADERS',
  'POSTERN_ERR_REQUEST_TIMEOUT',
]);

/** True when `err` is about the client's own request rather than the network behind the edge. */
export function isClientRequestError(err: unknown): boolean {
  return isPosternError(err) && CLIENT_CODES.has(err.code);
}

/** Compiles configured pages once per configuration, so answering one is a join. */
export function compileErrorPages(
  pages: ReadonlyMap<number, HttpErrorPage> | undefined,
): ReadonlyMap<number, CompiledErrorPage> {
  const compiled = new Map<number, CompiledErrorPage>();
  for (const [status, page] of pages ?? []) {
    compiled.set(status, {
      parts: page.body.split(PLACEHOLDER),
      contentType: page.contentType ?? DEFAULT_PAGE_TYPE,
    });
  }
  return compiled;
}

/**
 * The body that tells a client no more than the status, the code (a class of failure) and the
 * request id that the edge's log line and request record for the same failure carry.
 */
export function minimalErrorBody(status: number, code: string, requestId: string): string {
  return (
    `${status} ${STATUS_CODES[status] ?? 'Error'}\n` +
    `Error: ${code}\n` +
    `Request id: ${requestId}\n` +
    `${USER_SENTENCE}\n`
  );
}

/**
 * The response for answering `status` with `err`: the operator's page for that status when
 * there is one, else the message for errors in the client's request and under `full`, else the
 * minimal body. Logs the full message with a fresh request id (warn for failures behind the
 * edge, debug for the client's own mistakes, which are not the operator's to fix).
 */
export function errorAnswer(rt: ErrorAnswerSettings, status: number, err: unknown): ErrorAnswer {
  const requestId = nextRequestId();
  const code = errorCodeOf(err);
  const clientError = isClientRequestError(err);
  logErrorAnswer(rt, { status, code, requestId, clientError, err });
  const page = rt.errorPages.get(status);
  if (page !== undefined) {
    const body = page.parts.join(requestId);
    return {
      requestId,
      body,
      headers: errorHeaderFields(page.contentType, body, code, requestId),
    };
  }
  const body =
    clientError || rt.errorDetail === 'full'
      ? errorBody(err)
      : minimalErrorBody(status, code, requestId);
  return { requestId, body, headers: errorHeaderFields(TEXT_TYPE, body, code, requestId) };
}

// X-Request-Id carries the id for answers whose body cannot show it (HEAD, a custom page
// without {request_id}).
function errorHeaderFields(
  contentType: string,
  body: string,
  code: string,
  requestId: string,
): string[] {
  return [
    'Content-Type',
    contentType,
    'Content-Length',
    String(Buffer.byteLength(body)),
    'X-Postern-Error',
    code,
    'X-Request-Id',
    requestId,
  ];
}

interface LoggedError {
  readonly status: number;
  readonly code: string;
  readonly requestId: string;
  readonly clientError: boolean;
  readonly err: unknown;
}

function logErrorAnswer(rt: ErrorAnswerSettings, e: LoggedError): void {
  const logger = rt.logger;
  if (logger === undefined) return;
  const fields = {
    server: rt.name,
    requestId: e.requestId,
    status: e.status,
    code: e.code,
    err: e.err instanceof Error ? e.err.message : String(e.err),
  };
  if (e.clientError) logger.debug(fields, 'client error');
  else logger.warn(fields, 'request answered with an error');
}
