import type { AccessGateRespond } from './access-gate.js';
import { requestFacts, type ClientRequest } from './client-request.js';
import type { HttpRuntime } from './http-runtime.js';
import { reportRequestEnd } from './request-record.js';

/** Where the access gate serves its own pages (sign-in, callback, logout, device login). */
const GATE_PAGES = '/.postern/';

/**
 * Why a request the access gate answered ended, from its answer: `access_denied` (403),
 * `rate_limited` (429), `login_failed` (5xx, or 4xx on the gate's own pages: a login that could
 * not start or finish), `login_required` (401 or a redirect on an application path: sign in
 * first), else `access_gate` (the gate's own pages, such as the sign-in page or logout).
 */
export function gateCloseReason(target: string, status: number): string {
  if (status === 403) return 'access_denied';
  if (status === 429) return 'rate_limited';
  const gatePage = target.startsWith(GATE_PAGES);
  if (status >= 500 || (gatePage && status >= 400)) return 'login_failed';
  if (!gatePage && (status === 401 || (status >= 300 && status < 400))) return 'login_required';
  return 'access_gate';
}

/**
 * Reports the record of a request the access gate answered itself, so that it shows in the
 * `request ended` log and in postern_edge_http_requests_total like any other answer; `started`
 * is the monotonic time the request arrived.
 */
export function reportGateAnswer(
  rt: HttpRuntime,
  req: ClientRequest,
  o: { readonly verdict: AccessGateRespond; readonly started: number; readonly upgrade: boolean },
): void {
  const facts = requestFacts(req);
  const { status, body = '' } = o.verdict.respond;
  reportRequestEnd(rt, facts, {
    route: rt.router.match(facts.host, facts.target),
    node: undefined,
    connectorId: undefined,
    rule: undefined,
    status,
    bytesIn: 0,
    bytesOut: Buffer.byteLength(body),
    attempts: 0,
    failedNodes: undefined,
    upgrade: o.upgrade,
    closeReason: gateCloseReason(facts.target, status),
    started: o.started,
    requestId: undefined,
  });
}
