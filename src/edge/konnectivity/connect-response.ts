import { isPosternError } from '../../core/index.js';

/** The exact success answer kube-apiserver's egress dialer expects; nothing may follow it in the same read. */
export const CONNECTION_ESTABLISHED = Buffer.from(
  'HTTP/1.1 200 Connection Established\r\n\r\n',
  'latin1',
);

/** Statuses the frontend answers a failed CONNECT with. */
export type FailureStatus = 400 | 405 | 408 | 502 | 503 | 504;

const PHRASES: Record<FailureStatus, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * A complete failure response that closes the connection. The short reason also goes into
 * the status text because kube-apiserver logs only the status line ("code 503: ...").
 */
export function failureResponse(status: FailureStatus, reason: string, message: string): Buffer {
  const body = Buffer.from(`${printable(message)}\n`, 'latin1');
  const lines = [
    `HTTP/1.1 ${status} ${PHRASES[status]} (${printable(reason).slice(0, 120)})`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${body.length}`,
    ...(status === 405 ? ['Allow: CONNECT'] : []),
    'Connection: close',
    '',
    '',
  ];
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]);
}

/** How a failed dial through a connector is answered and counted. */
export interface DialFailure {
  readonly status: 502 | 504;
  readonly outcome: 'dial_timeout' | 'dial_not_allowed' | 'dial_failed';
  readonly code: string;
}

/** Timeouts (the destination's or the connector's silence) are 504; every other failure is 502. */
export function classifyDialFailure(err: unknown): DialFailure {
  const code = isPosternError(err) ? err.code : 'POSTERN_ERR_DIAL_FAILED';
  if (code === 'POSTERN_ERR_DIAL_TIMEOUT' || code === 'POSTERN_ERR_TUNNEL_TIMEOUT')
    return { status: 504, outcome: 'dial_timeout', code };
  if (code === 'POSTERN_ERR_DIAL_NOT_ALLOWED')
    return { status: 502, outcome: 'dial_not_allowed', code };
  return { status: 502, outcome: 'dial_failed', code };
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}
