import type { Http2ServerRequest } from 'node:http2';
import { clientIpOf } from './forward-headers.js';
import { normalizeHost } from './host-pattern.js';
import { Http1Request } from './http1-request.js';

/** A request from a client over HTTP/1.x (Postern's server) or HTTP/2 (Node's compatibility API). */
export type ClientRequest = Http1Request | Http2ServerRequest;

/** How the request body is framed towards the upstream. */
export const BodyMode = { None: 0, Length: 1, Chunked: 2 } as const;
/** One of {@link BodyMode}'s values. */
export type BodyMode = (typeof BodyMode)[keyof typeof BodyMode];

/** The facts about a client request the proxy needs, read once. */
export interface RequestFacts {
  readonly method: string;
  /** Request target (path and query). */
  readonly target: string;
  /** Host as sent (with port), or undefined. */
  readonly rawHost: string | undefined;
  /** Lower case, without port. */
  readonly host: string;
  readonly clientIp: string;
  readonly protocol: string;
  readonly h2: boolean;
  readonly body: BodyMode;
  /** Header fields, not counting HTTP/2 pseudo-headers. */
  readonly headerCount: number;
  /**
   * HTTP/2: the header section's size as HTTP/1.1 would carry it (each field's name and value
   * plus 4), pseudo-headers included; HTTP/1.x heads are measured by their parser (0 here).
   */
  readonly headerBytes: number;
}

/** Reads method, target, host, body framing and client address from a request. */
export function requestFacts(req: ClientRequest): RequestFacts {
  if (req instanceof Http1Request) return http1Facts(req);
  const h2 = req.httpVersionMajor === 2;
  const headers = req.headers;
  const rawHost = h2 ? (req.authority ?? headers.host) : headers.host;
  const method = req.method ?? 'GET';
  const length = headers['content-length'];
  let body: BodyMode = BodyMode.None;
  if (length !== undefined) body = length === '0' ? BodyMode.None : BodyMode.Length;
  else if (h2) {
    const stream = req.stream;
    if (!stream.endAfterHeaders && method !== 'GET' && method !== 'HEAD') body = BodyMode.Chunked;
  } else if (headers['transfer-encoding'] !== undefined) body = BodyMode.Chunked;
  const raw = req.rawHeaders;
  let headerCount = raw.length >> 1;
  let headerBytes = 0;
  if (h2)
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      if (name.charCodeAt(0) === 58) headerCount--;
      headerBytes += name.length + (raw[i + 1] as string).length + 4;
    }
  return {
    method,
    target: req.url ?? '/',
    rawHost,
    host: normalizeHost(rawHost),
    clientIp: clientIpOf(req.socket.remoteAddress),
    protocol: h2 ? 'h2' : `http/${req.httpVersion}`,
    h2,
    body,
    headerCount,
    headerBytes,
  };
}

/** The facts of an HTTP/1.x request, from what its parser already found. */
function http1Facts(req: Http1Request): RequestFacts {
  const head = req.head;
  return {
    method: head.method,
    target: head.target,
    rawHost: head.host,
    host: normalizeHost(head.host),
    clientIp: clientIpOf(req.socket.remoteAddress),
    protocol: head.minor === 1 ? 'http/1.1' : 'http/1.0',
    h2: false,
    body: head.chunked
      ? BodyMode.Chunked
      : head.contentLength > 0
        ? BodyMode.Length
        : BodyMode.None,
    headerCount: head.rawHeaders.length >> 1,
    headerBytes: 0,
  };
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** True for the methods a failed request may be retried with on another node. */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}
