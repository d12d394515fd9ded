import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { CertificateStore } from '../tls/certificate-store.js';
import { tlsErrors } from '../tls/errors.js';
import { H2Timeouts } from './h2-timeouts.js';
import type { HttpVirtualServerOptions } from './http-options.js';
import type { Http1Handlers, Http1Settings } from './http1-connection.js';
import { Http1Server } from './http1-server.js';

/** What accepts a virtual server's connections and who serves them. */
export interface VirtualServerListener {
  /** The listening server: plain TCP for http, TLS for https. */
  readonly server: net.Server | tls.Server;
  /** Serves HTTP/1.x connections (all of http, and https ones without ALPN h2). */
  readonly http1: Http1Server;
  /** Serves https connections that negotiated h2; absent when ALPN does not offer h2. */
  readonly h2: http2.Http2SecureServer | undefined;
  /** Keep-alive and request body timeouts of the h2 sessions. */
  readonly h2Timeouts: H2Timeouts | undefined;
}

/** A TLS handshake not done in this long closes (as the tls server's ClientHello wait). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Concurrent streams an HTTP/2 session may open (HAProxy's default; nginx has 128): node:http2
 * advertises 2^32-1 otherwise, letting one session carry any number of requests at once.
 */
export const H2_MAX_CONCURRENT_STREAMS = 100;

/** Timeouts and limits resolved from the options. */
export interface ServerSettings extends Http1Settings {
  readonly maxHeaders: number;
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
 * Creates the listener: a TCP server for http; for https a TLS server (certificate per SNI via
 * `sni`, ALPN from the options) that hands h2 connections to node:http2 and the rest to
 * Postern's HTTP/1.1 server.
 */
export function createListener(
  options: HttpVirtualServerOptions,
  store: CertificateStore | undefined,
  sni: (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void,
  handlers: Http1Handlers,
): VirtualServerListener {
  const s = serverSettings(options);
  const http1 = new Http1Server(s, handlers);
  if (options.protocol === 'http') {
    const server = net.createServer((socket) => http1.accept(socket));
    return { server, http1, h2: undefined, h2Timeouts: undefined };
  }
  const first = store?.default;
  const pair = options.tls?.certificates[0];
  if (!first || !pair) throw tlsErrors.noCertificate(options.name);
  const minVersion = options.tls?.minVersion ?? 'TLSv1.2';
  const alpn = options.tls?.alpn ?? ['h2', 'http/1.1'];
  const server = tls.createServer({
    cert: pair.cert,
    key: pair.key,
    minVersion,
    SNICallback: sni,
    ALPNProtocols: alpn.includes('h2') ? alpn : ['http/1.1'],
    // Emits tlsClientError, whose listener must destroy the socket (node leaves it open then).
    handshakeTimeout: options.tlsHandshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS,
  });
  const h2 = alpn.includes('h2')
    ? http2.createSecureServer({
        allowHTTP1: false,
        // Above limits.max_headers on purpose: node:http2 resets a stream over its own limit
        // with no answer, while the exchange answers 431 with text, like HTTP/1 (P4). Fixed at
        // creation (node reads it once), so it leaves room for a raised max_headers too.
        maxHeaderListPairs: h2HeaderPairs(s.maxHeaders),
        settings: h2Advertised(s),
      })
    : undefined;
  if (h2) applyH2Settings(h2, s);
  const h2Timeouts = h2 ? new H2Timeouts(h2, s) : undefined;
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    if (h2 && socket.alpnProtocol === 'h2') h2.emit('secureConnection', socket);
    else http1.accept(socket);
  });
  return { server, http1, h2, h2Timeouts };
}

/** node:http2's own field-count limit: 4 × max_headers, at least 1024 (pseudo-headers included). */
function h2HeaderPairs(maxHeaders: number): number {
  return Math.max(1024, maxHeaders * 4);
}

/** Applies new limits and timeouts to both servers (for new connections and requests). */
export function applySettings(listener: VirtualServerListener, s: ServerSettings): void {
  listener.http1.configure(s);
  if (listener.h2) applyH2Settings(listener.h2, s);
  listener.h2Timeouts?.configure(s);
}

/** SETTINGS advertised to new sessions. */
function h2Advertised(s: ServerSettings): http2.Settings {
  return { maxHeaderListSize: s.maxHeaderBytes, maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS };
}

/** Limits and timeouts that node:http2 reads from the server object. */
function applyH2Settings(server: http2.Http2SecureServer, s: ServerSettings): void {
  Object.assign(server, { timeout: s.idleTimeoutMs });
  // Advertised to new sessions; requests over the limit get 431 from the exchange either way.
  server.updateSettings(h2Advertised(s));
}
