import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { isPosternError, type PosternError } from '../core/index.js';

/** The realm the access proxy names in `Proxy-Authenticate`. */
export const ACCESS_REALM = 'postern';

/** HTTP status for a failed dial: 503 no connector up, 504 timed out, 502 anything else. */
export function dialFailureStatus(err: unknown): 502 | 503 | 504 {
  const code = isPosternError(err) ? err.code : '';
  if (code === 'POSTERN_ERR_NO_CONNECTOR') return 503;
  if (code === 'POSTERN_ERR_DIAL_TIMEOUT' || code === 'POSTERN_ERR_TUNNEL_TIMEOUT') return 504;
  return 502;
}

/**
 * The complete answer to a refused CONNECT: status line, headers, and a plain-text body with the
 * error's message and code. A 407 carries `Proxy-Authenticate: Bearer` and says how to log in.
 */
export function refusalResponse(
  status: number,
  error: PosternError,
  options: { readonly edgeUrl?: string | undefined } = {},
): string {
  let body = `${error.message} (${error.code})\n`;
  if (status === 407) {
    const url = options.edgeUrl ?? '<url>';
    body = `${error.message.replace(/<url>/g, url)} (${error.code})\nLog in with: postern login --edge ${url}\n`;
  }
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Postern-Error: ${error.code}`,
    'Connection: close',
  ];
  if (status === 407) {
    const why = error.code === 'POSTERN_ERR_TOKEN_MISSING' ? '' : ', error="invalid_token"';
    headers.push(`Proxy-Authenticate: Bearer realm="${ACCESS_REALM}"${why}`);
  }
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}

/** Writes a refusal and closes the client's connection once it is sent. */
export function writeRefusal(socket: Duplex, response: string): void {
  if (socket.destroyed) return;
  socket.end(response);
  // A client that never reads must not keep the connection: give the answer 5 s to drain.
  setTimeout(() => socket.destroy(), 5000).unref();
}

/** The success answer to CONNECT. */
export const CONNECT_ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';
