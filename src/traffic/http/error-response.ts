import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { isPosternError } from '../../core/index.js';

/** The code a client sees in X-Postern-Error for an error (POSTERN_ERR_INTERNAL when uncoded). */
export function errorCodeOf(err: unknown): string {
  return isPosternError(err) ? err.code : 'POSTERN_ERR_INTERNAL';
}

/** The plain-text body of an error response: the code, then what happened and how to fix it. */
export function errorBody(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `${errorCodeOf(err)}: ${message}\n`;
}

/** The header fields of an error response, flat. */
export function errorHeaders(err: unknown, body: string): string[] {
  return [
    'Content-Type',
    'text/plain; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(body)),
    'X-Postern-Error',
    errorCodeOf(err),
  ];
}

/**
 * Writes a complete response straight to a socket (client errors and upgrade requests, where
 * there is no response object), asking the client to close.
 */
export function writeRawResponse(
  socket: Duplex,
  status: number,
  headers: readonly string[],
  body: string,
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i < headers.length; i += 2)
    head += `${headers[i] as string}: ${headers[i + 1] as string}\r\n`;
  socket.end(`${head}Connection: close\r\n\r\n${body}`, 'utf8');
}
