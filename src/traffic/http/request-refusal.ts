import { isValidHost } from './host-pattern.js';
import { normalizePath } from './normalized-path.js';

/** Why a request is refused before routing: the status and a sentence for the client. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
}

/**
 * Checks what routes, rules and gates rely on, for HTTP/1 (from the head parser) and HTTP/2
 * (from the exchange) alike: a valid Host or :authority, a request target whose path can be
 * normalized, and no TRACE, which would echo cookies and credentials back (cross-site tracing;
 * nginx answers 405 too). CONNECT is refused elsewhere.
 */
export function requestRefusal(
  method: string,
  target: string,
  host: string | undefined,
): Refusal | undefined {
  if (method === 'CONNECT') return undefined;
  if (host !== undefined && !isValidHost(host))
    return { status: 400, message: `invalid Host ${quote(host)}` };
  if (target !== '*') {
    const path = normalizePath(target);
    if (!path.ok) return { status: 400, message: `bad request target: ${path.problem}` };
  }
  if (method === 'TRACE')
    return {
      status: 405,
      message: 'TRACE is not served (it would echo cookies and credentials back to the client)',
    };
  return undefined;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
