import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type tls from 'node:tls';
import type { CertificateStore } from '../tls/certificate-store.js';
import { tlsErrors } from '../tls/errors.js';
import type { HttpVirtualServerOptions } from './http-options.js';

/** The Node server behind an http or https virtual server. */
export type NodeHttpServer = http.Server | https.Server | http2.Http2SecureServer;

/** Timeouts and limits resolved from the options, as the Node servers take them. */
export interface ServerSettings {
  readonly maxHeaderBytes: number;
  readonly maxHeaders: number;
  readonly idleTimeoutMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** Resolves limits and client-side timeouts with vTM's defaults. */
export function serverSettings(options: HttpVirtualServerOptions): ServerSettings {
  return {
    maxHeaderBytes: options.limits?.maxHeaderBytes ?? 16384,
    maxHeaders: options.limits?.maxHeaders ?? 100,
    idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
    keepaliveTimeoutMs: options.keepaliveTimeoutMs ?? 10_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
  };
}

/**
 * Creates the Node server: node:http for http; for https, node:http2 with HTTP/1.1 fallback when
 * ALPN offers h2, node:https otherwise. `sni` picks the certificate per connection.
 */
export function createNodeServer(
  options: HttpVirtualServerOptions,
  store: CertificateStore | undefined,
  sni: (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void,
): NodeHttpServer {
  const s = serverSettings(options);
  if (options.protocol === 'http') {
    const server = http.createServer(http1Options(s));
    applySettings(server, s);
    return server;
  }
  const first = store?.default;
  const pair = options.tls?.certificates[0];
  if (!first || !pair) throw tlsErrors.noCertificate(options.name);
  const minVersion = options.tls?.minVersion ?? 'TLSv1.2';
  const alpn = options.tls?.alpn ?? ['h2', 'http/1.1'];
  const tlsOptions = { cert: pair.cert, key: pair.key, minVersion, SNICallback: sni };
  if (alpn.includes('h2')) {
    const server = http2.createSecureServer({
      ...tlsOptions,
      allowHTTP1: alpn.includes('http/1.1'),
      maxHeaderListPairs: s.maxHeaders + 16,
      settings: { maxHeaderListSize: s.maxHeaderBytes },
    });
    // The HTTP/1.1 side of an http2 server reads these from the server object.
    Object.assign(server, { connectionsCheckingInterval: checkingInterval(s) });
    applySettings(server, s);
    return server;
  }
  const server = https.createServer({
    ...tlsOptions,
    ALPNProtocols: ['http/1.1'],
    ...http1Options(s),
  });
  applySettings(server, s);
  return server;
}

/** The HTTP/1.1 server options shared by http and https servers. */
function http1Options(s: ServerSettings) {
  return {
    maxHeaderSize: s.maxHeaderBytes,
    requestTimeout: s.requestTimeoutMs,
    headersTimeout: s.requestTimeoutMs,
    keepAliveTimeout: s.keepaliveTimeoutMs,
    connectionsCheckingInterval: checkingInterval(s),
    noDelay: true,
  };
}

/** Applies limits and timeouts that Node reads from the server object per connection or request. */
export function applySettings(server: NodeHttpServer, s: ServerSettings): void {
  Object.assign(server, {
    maxHeaderSize: s.maxHeaderBytes,
    // One more than allowed, so that the proxy can tell "too many" from "exactly the limit".
    maxHeadersCount: s.maxHeaders + 1,
    requestTimeout: s.requestTimeoutMs,
    headersTimeout: s.requestTimeoutMs,
    keepAliveTimeout: s.keepaliveTimeoutMs,
    timeout: s.idleTimeoutMs,
  });
}

/** How often Node checks request timeouts: a quarter of the timeout, between 50 ms and 30 s. */
function checkingInterval(s: ServerSettings): number {
  if (s.requestTimeoutMs <= 0) return 30_000;
  return Math.min(30_000, Math.max(50, Math.floor(s.requestTimeoutMs / 4)));
}
