import type { AccessGateRespond } from './access-gate.js';
import { requestFacts, type ClientRequest } from './client-request.js';
import type { HttpRuntime } from './http-runtime.js';
import { reportRequestEnd } from './request-record.js';

/** Where the access gate serves its own pages (sign-in, callback, logout, device login). */
const GATE_PAGES = '/.postern/';

/**
 * Why a request the access gate answered ended, inferred from its answer when the gate gave no
 * reason (AccessGateRespond.reason): `access_denied` (403), `rate_limited` (429), `login_failed`
 * (5xx, or 4xx on the gate's own pages: a login that could not start or finish),
 * `login_required` (401 or a redirect on an application path: sign in first), else
 * `access_gate` (the gate's own pages, such as the sign-in page).
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
  const { status, body = '' } = o.verdict.respond;
  const closeReason = o.verdict.reason ?? gateCloseReason(req.url ?? '/', status);
  reportGate(rt, req, { ...o, status, bytesOut: Buffer.byteLength(body), closeReason });
}

/**
 * Reports the record of a request whose client went away while the gate was still deciding:
 * status 0 and close reason `client_aborted`, as a proxied request the client abandons.
 */
export function reportGateAbort(
  rt: HttpRuntime,
  req: ClientRequest,
  o: { readonly started: number; readonly upgrade: boolean },
): void {
  reportGate(rt, req, { ...o, status: 0, bytesOut: 0, closeReason: 'client_aborted' });
}

function reportGate(
  rt: HttpRuntime,
  req: ClientRequest,
  o: {
    readonly status: number;
    readonly bytesOut: number;
    readonly closeReason: string;
    readonly started: number;
    readonly upgrade: boolean;
  },
): void {
  const facts = requestFacts(req);
  reportRequestEnd(rt, facts, {
    route: rt.router.match(facts.host, facts.target),
    node: undefined,
    connectorId: undefined,
    rule: undefined,
    status: o.status,
    bytesIn: 0,
    bytesOut: o.bytesOut,
    attempts: 0,
    failedNodes: undefined,
    upgrade: o.upgrade,
    closeReason: o.closeReason,
    started: o.started,
    requestId: undefined,
  });
}
