import type { Duplex } from 'node:stream';
import { errorAnswer } from './error-answer.js';
import { writeRawResponse } from './error-response.js';
import { clientIpOf } from './forward-headers.js';
import type { HttpRuntime } from './http-runtime.js';
import { redactTarget } from './query-redaction.js';
import { endOfRecord } from './request-record.js';

/** A request line's method and target, as far as the refused head had a well-formed one. */
export interface RefusedRequestLine {
  readonly method: string;
  readonly target: string;
}

// method SP request-target SP HTTP-version (RFC 9112 §3): a token, visible characters, a version.
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}) ([\x21-\x7e\x80-\xff]+) HTTP\/\d\.\d$/;

/** The method and target of the request line that starts `head`, when it is well-formed. */
export function refusedRequestLine(head: string | undefined): RefusedRequestLine | undefined {
  if (head === undefined) return undefined;
  const eol = head.indexOf('\r\n');
  const match = REQUEST_LINE.exec(eol < 0 ? head : head.slice(0, eol));
  if (match === null) return undefined;
  return { method: match[1] as string, target: match[2] as string };
}

/**
 * Answers a request refused before it reached the proxy (431 for an oversized header section,
 * 408 for a request that did not arrive in time, 400 for anything malformed, 405 for TRACE and
 * CONNECT, 501/505 for what is not supported) and closes the connection. Reports a record with
 * the answer's request id, and the method and (redacted) path when `head` (the start of the
 * request head, from its request line) had a well-formed request line.
 */
export function answerClientError(
  rt: HttpRuntime,
  socket: Duplex,
  status: number,
  error: Error,
  head?: string,
): void {
  // Logs the message (debug: the client's mistake) with the id the record below carries.
  const answer = errorAnswer(rt, status, error);
  writeRawResponse(socket, status, answer.headers, answer.body);
  const line = refusedRequestLine(head);
  rt.onRequestEnd?.(
    endOfRecord({
      requestId: answer.requestId,
      virtualServer: rt.name,
      route: 'default',
      pool: '',
      client: clientIpOf((socket as { remoteAddress?: string }).remoteAddress),
      method: line?.method ?? '',
      host: '',
      // Logs keep records; secrets in the query stay out of them, as in every other record.
      path: line === undefined ? '' : redactTarget(line.target),
      protocol: 'http/1.1',
      status,
      bytesIn: 0,
      bytesOut: Buffer.byteLength(answer.body),
      durationMs: 0,
      attempts: 0,
      upgrade: false,
      closeReason: (error as { code?: string }).code ?? 'POSTERN_ERR_BAD_REQUEST',
    }),
  );
}
