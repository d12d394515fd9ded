import net from 'node:net';
import type { UpstreamTls } from '../upstream-tls.js';
import type { MonitorSpec } from './monitor-spec.js';

/**
 * The TLS settings an `https` probe uses. On a pool with `tls` they are the pool's, so that a
 * monitor sees a node as real traffic does: its `server_name`, `ca`, client certificate and
 * `min_version`, verifying unless the pool says `verify: false`. On a pool without `tls` the
 * probe checks liveness only, as before (no verification unless the monitor asks for it). A
 * monitor's explicit `verify_tls` wins either way. SNI and the name verified: on a pool with
 * `tls` those of its traffic (`server_name`, else the node's name; an IP address is verified as
 * an IP), never the monitor's `host_header`, which traffic does not use; on a pool without it
 * the Host header's name, else the node's name.
 */
export function probeTls(
  spec: MonitorSpec,
  pool: string,
  tls: UpstreamTls | undefined,
): UpstreamTls {
  return {
    pool: tls?.pool ?? pool,
    serverName: tls === undefined ? hostName(spec.hostHeader) : tls.serverName,
    verify: spec.verifyTls ?? tls?.verify ?? false,
    ca: tls?.ca,
    cert: tls?.cert,
    key: tls?.key,
    minVersion: tls?.minVersion ?? 'TLSv1.2',
    // Probes never reuse connections, so no connection cache is keyed by this.
    cacheGroup: '',
  };
}

/**
 * Whether the edge runs a `via` pool's monitor itself instead of its connectors: an `https`
 * check that must present the pool's client certificate, whose key never leaves the edge (the
 * connector relays only ciphertext for such pools). The edge dials it through the tunnel.
 */
export function monitorRunsOnEdge(
  monitor: { readonly type: string },
  tls: UpstreamTls | undefined,
): boolean {
  return monitor.type === 'https' && tls?.cert !== undefined;
}

/** The name in a Host header value (port and IPv6 brackets removed); undefined for an IP. */
function hostName(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined) return undefined;
  const host = hostHeader.replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/:\d+$/, '');
  return net.isIP(host) === 0 && host !== '' ? host : undefined;
}

/**
 * A pool's `tls` as a connector gets it for its checks: only what verifying a node needs. The
 * client certificate and key stay on the edge (see monitorRunsOnEdge).
 */
// A type, not an interface: it must fit the wire schema's open (index-signature) object.
export type PublicPoolTls = {
  readonly server_name?: string | undefined;
  readonly verify: boolean;
  readonly ca?: string | undefined;
  readonly min_version?: string | undefined;
};

/** The part of a pool's `tls` that may be sent to its connectors; never the client key. */
export function publicPoolTls(tls: UpstreamTls): PublicPoolTls {
  return {
    verify: tls.verify,
    min_version: tls.minVersion,
    ...(tls.serverName === undefined ? {} : { server_name: tls.serverName }),
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
  };
}

/** A pool's TLS settings rebuilt on a connector from what the edge sent (no client certificate). */
export function poolTlsFromPublic(pool: string, tls: PublicPoolTls): UpstreamTls {
  return {
    pool,
    serverName: tls.server_name,
    verify: tls.verify,
    ca: tls.ca,
    cert: undefined,
    key: undefined,
    // A version this build does not know (a newer edge) falls back to the lowest it knows.
    minVersion: tls.min_version === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2',
    cacheGroup: '',
  };
}
