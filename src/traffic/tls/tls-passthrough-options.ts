import type { Clock } from '../../core/index.js';
import type { Dialer } from '../dialer.js';
import type { FailedNodes } from '../node-failures.js';
import type { TrafficLogger } from '../http/http-options.js';
import type { UpstreamPool } from '../http/upstream-pool.js';
import type { ConnectionCapOptions } from '../connection-cap.js';
import type { ProxyProtocolVersion } from '../proxy-header.js';

/** A route of a tls virtual server: connections whose SNI matches `host` go to `pool`. */
export interface SniRoute {
  /** Exact name, `*.suffix` or `*`. */
  readonly host: string;
  readonly pool: UpstreamPool;
  readonly name?: string;
}

/** What happened to one client connection, reported when it ends. */
export interface TlsSessionRecord {
  readonly sessionId: string;
  readonly virtualServer: string;
  readonly route: string;
  readonly pool: string;
  /** SNI name the client asked for, if any. */
  readonly serverName?: string;
  readonly client: string;
  readonly node?: string;
  readonly connectorId?: string;
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
  readonly durationMs: number;
  /** `closed` for a normal end, `idle_timeout`, or the code of the error that ended it. */
  readonly closeReason: string;
  /** When no node could be reached: every node tried (up to a bound), with what went wrong. */
  readonly failedNodes?: FailedNodes;
}

/** Options of a tls (passthrough) virtual server; timeouts default to vTM's. */
export interface TlsPassthroughOptions extends ConnectionCapOptions {
  readonly name: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** Pool for connections without SNI or whose SNI no route matches. */
  readonly pool: UpstreamPool;
  /** Routes by SNI host; the first match wins. */
  readonly routes?: readonly SniRoute[];
  readonly dialer: Dialer;
  /** Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Default 300000. */
  readonly idleTimeoutMs?: number;
  /** Time allowed for the whole ClientHello to arrive. Default 10000. */
  readonly clientHelloTimeoutMs?: number;
  /** Largest ClientHello accepted (record headers included). Default 16384. */
  readonly maxClientHelloBytes?: number;
  /** Extra nodes tried when connecting fails (nothing has been sent yet, so always safe). Default 1. */
  readonly retries?: number;
  /** PROXY protocol header sent to the node before the ClientHello. Default `none`. */
  readonly proxyProtocol?: ProxyProtocolVersion;
  readonly clock?: Clock;
  readonly logger?: TrafficLogger;
  readonly onSessionEnd?: (record: TlsSessionRecord) => void;
}
