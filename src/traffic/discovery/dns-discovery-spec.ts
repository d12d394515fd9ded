import { Resolver } from 'node:dns/promises';
import { trafficErrors } from '../errors.js';

/** DNS discovery as configuration documents write it (`discovery.dns`). */
export interface DnsDiscoveryConfigInput {
  readonly name: string;
  /** Node port; required for A/AAAA, overrides the record's port for SRV. */
  readonly port?: number | undefined;
  readonly type?: 'A' | 'AAAA' | 'SRV' | undefined;
  readonly min_interval_ms?: number | undefined;
  /** `ip`, `ip:port` or `[ipv6]:port` of the DNS server; absent = the system's resolvers. */
  readonly resolver?: string | undefined;
}

/** DNS discovery ready to run. */
export interface DnsDiscoverySpec {
  readonly name: string;
  readonly port: number | undefined;
  readonly type: 'A' | 'AAAA' | 'SRV';
  readonly minIntervalMs: number;
  readonly resolver: string | undefined;
}

/** Defaults of DNS discovery, as in the issue-4 design. */
export const dnsDiscoveryDefaults = { type: 'A', minIntervalMs: 10_000 } as const;

/** Applies defaults; throws POSTERN_ERR_POOL_INVALID for a spec that cannot run. */
export function dnsDiscoverySpecFromConfig(
  pool: string,
  config: DnsDiscoveryConfigInput,
): DnsDiscoverySpec {
  const spec: DnsDiscoverySpec = {
    name: config.name,
    port: config.port,
    type: config.type ?? dnsDiscoveryDefaults.type,
    minIntervalMs: config.min_interval_ms ?? dnsDiscoveryDefaults.minIntervalMs,
    resolver: config.resolver,
  };
  if (spec.type !== 'SRV' && spec.port === undefined) {
    throw trafficErrors.poolInvalid(pool, `discovery of ${spec.type} records needs a port`);
  }
  if (
    spec.port !== undefined &&
    (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535)
  ) {
    throw trafficErrors.poolInvalid(pool, `discovery port ${spec.port} is not a port number`);
  }
  if (!Number.isFinite(spec.minIntervalMs) || spec.minIntervalMs < 0) {
    throw trafficErrors.poolInvalid(pool, `discovery min_interval_ms must be 0 or more`);
  }
  if (spec.resolver !== undefined) {
    try {
      new Resolver().setServers([spec.resolver]);
    } catch {
      throw trafficErrors.poolInvalid(
        pool,
        `discovery resolver "${spec.resolver}" is not ip, ip:port or [ipv6]:port`,
      );
    }
  }
  return spec;
}
