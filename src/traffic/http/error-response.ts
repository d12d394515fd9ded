import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { isPosternError } from '../../core/index.js';
import { utcDate } from './utc-date.js';

/** The code a client sees in X-Postern-Error for an error (POSTERN_ERR_INTERNAL when uncoded). */
export function errorCodeOf(err: unknown): string {
  return isPosternError(err) ? err.code : 'POSTERN_ERR_INTERNAL';
}

/** The plain-text body of an error response: the code, then what happened and how to fix it. */
export function errorBody(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `${errorCodeOf(err)}: ${message}\n`;
}

/**
 * Writes a complete response straight to a socket (client errors and upgrade requests, where
 * there is no response object), with a Date field as every other answer has, asking the client
 * to close.
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
  let date = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (name.toLowerCase() === 'date') date = true;
    head += `${name}: ${headers[i + 1] as string}\r\n`;
  }
  if (!date) head += `Date: ${utcDate()}\r\n`;
  socket.end(`${head}Connection: close\r\n\r\n${body}`, 'utf8');
}
