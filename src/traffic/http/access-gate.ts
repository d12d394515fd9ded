import type { IncomingHttpHeaders } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { clientIpOf } from './forward-headers.js';
import { removeHeader } from './header-list.js';
import type { ClientRequest } from './client-request.js';
import { writeRawResponse } from './error-response.js';
import { Http1Request } from './http1-request.js';
import { Http1Response } from './http1-response.js';

/** What an access gate is told about a request, before anything is proxied. */
export interface AccessGateRequest {
  /** Name of the virtual server the request came through. */
  readonly virtualServer: string;
  readonly method: string;
  /** Request target: path and query. */
  readonly target: string;
  /** The Host (or HTTP/2 :authority) the client sent, with port. */
  readonly host: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly clientIp: string;
  /**
   * Reads the request body for a gate that answers the request itself (its own form posts):
   * undefined when the body is longer than `limit` bytes. Rejects when the client goes away.
   */
  readonly readBody?: ((limit: number) => Promise<Buffer | undefined>) | undefined;
}

/** The request may go on; with these fields removed (lower-case names), then these set. */
export interface AccessGateAllow {
  readonly allow: true;
  readonly remove?: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Why the gate answered a request itself, recorded as the close reason of its `request ended`
 * record: `login_required` (sign in first: a login redirect, a 401 for an ended session),
 * `login_pending` (a login under way that is not done yet: a device login's poll before the user
 * approved), `login_failed` (a login that could not start or finish), `logged_out` (a logout that
 * ended a session), `access_denied` (the access policy refused the user), `rate_limited` (too many
 * attempts), `form_refused` (a form of the gate's own pages that is stale, forged or malformed: a
 * token mismatch, its fields in the URL, a wrong encoding or size), `cross_site_refused` (such a
 * form posted from another site), `access_gate` (any other page of the gate's own, such as the
 * sign-in page).
 */
export type AccessGateReason =
  | 'login_required'
  | 'login_pending'
  | 'login_failed'
  | 'logged_out'
  | 'access_denied'
  | 'rate_limited'
  | 'form_refused'
  | 'cross_site_refused'
  | 'access_gate';

/** The gate answers the request itself (a login redirect, a 403 page, its own endpoints). */
export interface AccessGateRespond {
  readonly respond: {
    readonly status: number;
    readonly headers?: Readonly<Record<string, string | readonly string[]>>;
    readonly body?: string;
  };
  /** Why the gate answered; when unset, the record infers it from the status and path. */
  readonly reason?: AccessGateReason | undefined;
  /**
   * Set when this answer ended a session (a logout): true for the request that opened an
   * upgraded connection with that session, which must then close.
   */
  readonly endsConnections?: ((opened: AccessGateRequest) => boolean) | undefined;
}

/** A gate's verdict on one request. */
export type AccessGateResult = AccessGateAllow | AccessGateRespond;

/**
 * Decides whether a request may reach the application. The traffic layer knows nothing of
 * users or identity providers: it asks the gate before proxying (including `/.postern/*` paths,
 * which the gate answers) and obeys.
 */
export interface AccessGate {
  check(request: AccessGateRequest): Promise<AccessGateResult>;
  /**
   * When set, only requests whose target starts with one of these prefixes are checked; the
   * rest go on untouched (a gate that only serves its own endpoints costs other requests nothing).
   */
  readonly onlyPaths?: readonly string[] | undefined;
  /**
   * Decides again about an upgraded connection the gate let through, given the request that
   * opened it, under the gate's configuration and sessions now: undefined while it may stay
   * open, else the close reason. A gate without it leaves open connections alone.
   */
  recheck?(request: AccessGateRequest): Promise<string | undefined>;
  /** How often open upgraded connections are re-checked besides on every reconfigure; 30 s. */
  readonly recheckIntervalMs?: number | undefined;
}

/** The gate that must see a request with this target, if any. */
export function gateFor(
  gate: AccessGate | undefined,
  target: string | undefined,
): AccessGate | undefined {
  if (!gate?.onlyPaths) return gate;
  const path = target ?? '/';
  return gate.onlyPaths.some((prefix) => path.startsWith(prefix)) ? gate : undefined;
}

/** The gate's view of a client request. */
export function gateRequest(virtualServer: string, req: ClientRequest): AccessGateRequest {
  const h2 = req.httpVersionMajor === 2;
  const authority = h2 ? (req as { authority?: string }).authority : undefined;
  return {
    virtualServer,
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    host: authority ?? req.headers.host,
    headers: req.headers,
    clientIp: clientIpOf(req.socket.remoteAddress),
    readBody: (limit) => readGateBody(req, limit),
  };
}

/** Reads a client request's body up to `limit` bytes (see AccessGateRequest.readBody). */
function readGateBody(req: ClientRequest, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Http1Request tells of a lost client only through its socket; HTTP/2 requests close.
    const gone = (): void => finish(() => reject(new Error('the client went away')));
    const data = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish(() => resolve(undefined));
      else chunks.push(chunk);
    };
    const end = (): void => finish(() => resolve(Buffer.concat(chunks)));
    const socket = req instanceof Http1Request ? req.socket : undefined;
    const finish = (settle: () => void): void => {
      req.removeListener('data', data).removeListener('end', end).removeListener('close', gone);
      socket?.removeListener('close', gone);
      // The rest of an over-long body is dropped by the connection once the response is sent.
      req.pause();
      settle();
    };
    if (!(req instanceof Http1Request ? req.hasBody : !req.readableEnded)) {
      resolve(Buffer.alloc(0));
      return;
    }
    req.on('data', data).on('end', end).on('close', gone);
    socket?.once('close', gone);
    req.resume();
  });
}

/** Applies an allow verdict's header edits to the fields going upstream. */
export function applyGateHeaders(list: string[], allow: AccessGateAllow | undefined): void {
  if (!allow) return;
  for (const name of allow.remove ?? []) removeHeader(list, name);
  for (const [name, value] of Object.entries(allow.headers ?? {})) {
    removeHeader(list, name.toLowerCase());
    list.push(name, value);
  }
}

/** Sends a gate's own response on a request/response pair. */
export function sendGateResponse(
  res: Http1Response | Http2ServerResponse,
  verdict: AccessGateRespond,
): void {
  const { status, headers = {}, body = '' } = verdict.respond;
  if (res.headersSent || res.writableEnded) return;
  if (res instanceof Http1Response) {
    res.writeHead(status, undefined, flatHeaders(headers, body));
    res.end(body);
    return;
  }
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = typeof value === 'string' ? value : [...value];
  }
  out['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(status, out);
  res.end(body);
}

/** A gate response's fields, flat, with its Content-Length. */
function flatHeaders(
  headers: Readonly<Record<string, string | readonly string[]>>,
  body: string,
): string[] {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of typeof value === 'string' ? [value] : value) flat.push(name, v);
  }
  flat.push('Content-Length', String(Buffer.byteLength(body)));
  return flat;
}

/** Answers an Upgrade request on its raw socket with a gate's own response. */
export function sendGateUpgradeResponse(socket: Duplex, verdict: AccessGateRespond): void {
  const { status, headers = {}, body = '' } = verdict.respond;
  writeRawResponse(socket, status, flatHeaders(headers, body), body);
}
