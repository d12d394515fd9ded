import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { errorBody, errorHeaders, writeRawResponse } from './error-response.js';
import { httpErrors } from './errors.js';
import { clientIpOf } from './forward-headers.js';
import type { HttpRuntime } from './http-runtime.js';

/**
 * Answers what Node's HTTP parser refused before a request existed: 431 for an oversized header
 * section, 408 for a request that did not arrive in time, 400 for anything malformed; connection
 * errors just close. Reports a record so that refused requests show in logs and metrics.
 */
export function answerClientError(
  rt: HttpRuntime,
  err: NodeJS.ErrnoException,
  socket: Duplex,
  requestTimeoutMs: number,
): void {
  let status = 400;
  let error: Error = httpErrors.badRequest(
    (err as { reason?: string }).reason ?? err.code ?? err.message,
  );
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    error = httpErrors.headersTooLarge(rt.maxHeaderBytes);
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    error = httpErrors.requestTimeout(requestTimeoutMs);
  } else if (!err.code?.startsWith('HPE_')) {
    socket.destroy();
    return;
  }
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (inFlight?.headersSent) socket.destroy();
  else {
    const body = errorBody(error);
    writeRawResponse(socket, status, errorHeaders(error, body), body);
  }
  rt.logger?.debug({ server: rt.name, status, code: err.code }, 'client error');
  rt.onRequestEnd?.({
    requestId: randomUUID(),
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
