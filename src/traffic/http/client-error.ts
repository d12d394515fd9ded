import type { Duplex } from 'node:stream';
import { errorBody, errorHeaders, writeRawResponse } from './error-response.js';
import { clientIpOf } from './forward-headers.js';
import type { HttpRuntime } from './http-runtime.js';
import { nextRequestId } from './request-ids.js';

/**
 * Answers a request refused before it reached the proxy (431 for an oversized header section,
 * 408 for a request that did not arrive in time, 400 for anything malformed, 501/505 for what is
 * not supported) and closes the connection. Reports a record so that refused requests show in
 * logs and metrics.
 */
export function answerClientError(
  rt: HttpRuntime,
  socket: Duplex,
  status: number,
  error: Error,
): void {
  const body = errorBody(error);
  writeRawResponse(socket, status, errorHeaders(error, body), body);
  rt.logger?.debug({ server: rt.name, status, err: error.message }, 'client error');
  rt.onRequestEnd?.({
    requestId: nextRequestId(),
    virtualServer: rt.name,
    route: 'default',
    pool: '',
    client: clientIpOf((socket as { remoteAddress?: string }).remoteAddress),
    method: '',
    host: '',
    path: '',
    protocol: 'http/1.1',
    status,
    bytesIn: 0,
    bytesOut: 0,
    durationMs: 0,
    attempts: 0,
    upgrade: false,
    closeReason: (error as { code?: string }).code ?? 'POSTERN_ERR_BAD_REQUEST',
  });
}
