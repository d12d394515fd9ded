import type { Clock } from '../../core/index.js';
import type { Dialer } from '../dialer.js';
import type { FailedNodes } from '../node-failures.js';
import type { CertificatePair } from '../tls/certificate-store.js';
import type { AccessGate } from './access-gate.js';
import type { Route } from './router.js';
import type { HttpRule } from './rule-types.js';
import type { UpstreamPool } from './upstream-pool.js';
import type { ConnectionCapOptions } from '../connection-cap.js';

/** A pino-compatible logger; only `debug` and `warn` are used. */
export interface TrafficLogger {
  debug(...args: unknown[]): void;
  warn(...args: unknown[]): void;
}

/** TLS settings of an https virtual server. */
export interface HttpsTlsOptions {
  /** Key pairs; the one whose SAN matches the SNI name is served, the first is the default. */
  readonly certificates: readonly CertificatePair[];
  /** Lowest TLS version accepted. Default TLSv1.2. */
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Protocols offered by ALPN, in preference order. Default ['h2', 'http/1.1']. */
  readonly alpn?: readonly ('h2' | 'http/1.1')[];
}

/** Limits on what a client may send. */
export interface HttpLimits {
  /** Largest request header section (request line included for HTTP/1). Default 16384. */
  readonly maxHeaderBytes?: number;
  /** Most request header fields. Default 100. */
  readonly maxHeaders?: number;
}

/** Upstream connection reuse. */
export interface UpstreamReuseOptions {
  /** Idle keep-alive connections kept per node. Default 256. */
  readonly maxIdlePerNode?: number;
  /** Close an idle upstream connection after this long. Default 4000. */
  readonly idleTimeoutMs?: number;
}

/** A page an operator serves instead of the built-in error body for one status. */
export interface HttpErrorPage {
  /** Sent as given, except that every `{request_id}` is replaced by the request id. */
  readonly body: string;
  /** Default `text/html; charset=utf-8`. */
  readonly contentType?: string;
}

/** Options of an http or https virtual server; timeouts default to vTM's. */
export interface HttpVirtualServerOptions extends ConnectionCapOptions {
  readonly name: string;
  readonly protocol: 'http' | 'https';
  /** Address to listen on; port 0 picks a free port. Fixed for the server's life. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Pool for requests no route matches. */
  readonly pool: UpstreamPool;
  /** Routes by host and path prefix; the first match wins. */
  readonly routes?: readonly Route<UpstreamPool>[];
  readonly dialer: Dialer;
  /** Request and response rules, applied in order. */
  readonly rules?: readonly HttpRule[];
  /** Required for https; ignored for http. */
  readonly tls?: HttpsTlsOptions;
  readonly limits?: HttpLimits;
  /** Give up connecting to a node after this long (then 504). Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Close a client connection, or fail an upstream exchange, idle this long. Default 300000. */
  readonly idleTimeoutMs?: number;
  /**
   * Close an idle keep-alive client connection (an HTTP/2 session with no open stream) after this
   * long; 0: no keep-alive, close after each response. Default 10000.
   */
  readonly keepaliveTimeoutMs?: number;
  /**
   * Answer 408 when a request head has not arrived within this long, or when a request body
   * (HTTP/1 and HTTP/2) has had no read for this long. Default 60000.
   */
  readonly requestTimeoutMs?: number;
  /** https: close a connection whose TLS handshake is not done within this long. Default 10000. */
  readonly tlsHandshakeTimeoutMs?: number;
  /** Add X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host. Default true. */
  readonly forwardedHeaders?: boolean;
  /**
   * `replace`: X-Forwarded-For is the client's address alone and the client's Forwarded and
   * X-Real-IP are removed; `append` (the edge sits behind a trusted proxy): the client's
   * X-Forwarded-For is extended and Forwarded and X-Real-IP pass. Default `replace`.
   */
  readonly xForwardedFor?: 'replace' | 'append';
  /** Extra nodes tried for idempotent requests whose upstream failed before any body byte went out. Default 1. */
  readonly retries?: number;
  /**
   * What the body of an error answered for an upstream failure (502/503/504) tells the client:
   * `minimal`, the status, error code and request id; `full`, the message naming nodes, pools
   * and groups (development). Errors in the client's own request always explain. Default minimal.
   */
  readonly errorDetail?: 'minimal' | 'full';
  /** Pages served instead of the built-in error body, by status. Default none. */
  readonly errorPages?: ReadonlyMap<number, HttpErrorPage>;
  readonly upstream?: UpstreamReuseOptions;
  /** Default: the system clock. */
  readonly clock?: Clock;
  readonly logger?: TrafficLogger;
  /**
   * Asked before each request (and Upgrade) is proxied; it may answer the request itself. Default:
   * none, every request goes on.
   */
  readonly gate?: AccessGate | undefined;
  /** Called once per request (and per upgraded connection) when it ends. */
  readonly onRequestEnd?: (end: RequestEnd) => void;
}

/**
 * An ended request as its listener gets it: what counters need, at hand; the whole record (a new
 * request id, the redacted path, ...) is built only when asked for, so that a listener that only
 * counts (request logging off) costs no record per request.
 */
export interface RequestEnd {
  readonly virtualServer: string;
  /** Status sent to the client; 0 when none was sent. */
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly closeReason: string;
  /** The request's record; the same object on every call. */
  record(): HttpRequestRecord;
}

/** What happened to one request, reported when it ends. */
export interface HttpRequestRecord {
  readonly requestId: string;
  readonly virtualServer: string;
  /** Route name, or `default`. */
  readonly route: string;
  readonly pool: string;
  /** The node that served (or last failed) the request. */
  readonly node?: string;
  readonly connectorId?: string;
  /** Rule that answered the request itself (redirect or deny). */
  readonly rule?: string;
  readonly client: string;
  readonly method: string;
  readonly host: string;
  /** Path and query as sent, with the values of secret query parameters `REDACTED`. */
  readonly path: string;
  /** Client-side protocol: `http/1.0`, `http/1.1` or `h2`. */
  readonly protocol: string;
  /** Status sent to the client; 0 when none was sent. */
  readonly status: number;
  /** Request body bytes received from the client. */
  readonly bytesIn: number;
  /** Response body bytes received from the upstream (or the proxy's own body). */
  readonly bytesOut: number;
  readonly durationMs: number;
  /** Nodes tried. */
  readonly attempts: number;
  /**
   * When Postern answered 502/503/504 after nodes failed: every node tried (up to a bound), with
   * the code of what went wrong with each.
   */
  readonly failedNodes?: FailedNodes;
  readonly upgrade: boolean;
  /** `closed` for a normal end, `client_aborted`, or the code of the error that ended it. */
  readonly closeReason: string;
}
