import type { Resolver } from 'node:dns/promises';
import { trafficErrors } from '../errors.js';
import type { DnsDiscoverySpec } from './dns-discovery-spec.js';

/** One successful resolution: the node addresses (`ip:port`, `[ipv6]:port`) and the lowest TTL. */
export interface Resolution {
  readonly nodes: readonly string[];
  /** Lowest TTL of the records used, in ms; undefined when unknown (SRV) or nothing was returned. */
  readonly ttlMs: number | undefined;
}

/** Resolver answers that mean "no such records", as opposed to "the resolver failed". */
const NO_NAME = 'ENOTFOUND';
const NO_DATA = 'ENODATA';

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'ERROR';
}

/** `host:port`, bracketing IPv6. */
export function nodeAddress(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * Resolves a discovery spec the way vTM's BuiltIn-DNS_Stateless plugin does: A/AAAA give one
 * node per address, and NXDOMAIN or an empty answer is a valid empty set (scale to zero). SRV
 * gives one node per address of each target (all addresses, both families) with the record's
 * port unless the spec sets one; priority and weight are ignored; a target of "." is a valid
 * empty set; NXDOMAIN for the SRV name and targets without addresses are errors. Any resolver
 * failure rejects with POSTERN_ERR_DISCOVERY_FAILED so the caller keeps its last good set.
 */
export async function resolveNodes(
  resolver: Resolver,
  spec: DnsDiscoverySpec,
): Promise<Resolution> {
  if (spec.type === 'SRV') return resolveSrv(resolver, spec);
  const port = spec.port!;
  const records = await addresses(resolver, spec.name, spec.type === 'A' ? 4 : 6);
  return {
    nodes: unique(records.map((r) => nodeAddress(r.address, port))),
    ttlMs: lowestTtl(records),
  };
}

async function resolveSrv(resolver: Resolver, spec: DnsDiscoverySpec): Promise<Resolution> {
  let records;
  try {
    records = await resolver.resolveSrv(spec.name);
  } catch (err) {
    if (codeOf(err) === NO_DATA) return { nodes: [], ttlMs: undefined };
    const detail = codeOf(err) === NO_NAME ? 'service not found (NXDOMAIN)' : codeOf(err);
    throw trafficErrors.discoveryFailed(spec.name, 'SRV', detail, err);
  }
  const targets = records.filter((r) => r.name !== '' && r.name !== '.');
  const perTarget = await Promise.all(
    targets.map(async (r) => {
      const found = [
        ...(await addresses(resolver, r.name, 4)),
        ...(await addresses(resolver, r.name, 6)),
      ];
      if (found.length === 0) {
        throw trafficErrors.discoveryFailed(spec.name, 'SRV', `target ${r.name} has no address`);
      }
      return found.map((a) => nodeAddress(a.address, spec.port ?? r.port));
    }),
  );
  // resolveSrv does not report the SRV record's TTL, so SRV pools refresh every min_interval_ms:
  // never later than max(min_interval_ms, TTL) would.
  return { nodes: unique(perTarget.flat()), ttlMs: undefined };
}

async function addresses(
  resolver: Resolver,
  name: string,
  family: 4 | 6,
): Promise<{ address: string; ttl: number }[]> {
  try {
    return family === 4
      ? await resolver.resolve4(name, { ttl: true })
      : await resolver.resolve6(name, { ttl: true });
  } catch (err) {
    const code = codeOf(err);
    if (code === NO_NAME || code === NO_DATA) return [];
    throw trafficErrors.discoveryFailed(name, family === 4 ? 'A' : 'AAAA', code, err);
  }
}

function lowestTtl(records: readonly { ttl: number }[]): number | undefined {
  if (records.length === 0) return undefined;
  let lowest = Infinity;
  for (const r of records) lowest = Math.min(lowest, r.ttl);
  return lowest * 1000;
}

function unique(nodes: readonly string[]): string[] {
  return [...new Set(nodes)].sort();
}
