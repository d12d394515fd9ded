import type { Duplex } from 'node:stream';
import { errorAnswer } from './error-answer.js';
import { writeRawResponse } from './error-response.js';
import { clientIpOf } from './forward-headers.js';
import type { HttpRuntime } from './http-runtime.js';

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
  // Logs the message (debug: the client's mistake) with the id the record below carries.
  const answer = errorAnswer(rt, status, error);
  writeRawResponse(socket, status, answer.headers, answer.body);
  rt.onRequestEnd?.({
    requestId: answer.requestId,
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
