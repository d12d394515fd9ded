import type { Resolver } from 'node:dns/promises';
import { trafficErrors } from '../errors.js';
import type { DnsDiscoverySpec } from './dns-discovery-spec.js';
import { NO_WEIGHTS, srvNodeWeight, type NodeWeights } from './node-weights.js';

/** One successful resolution: the node addresses (`ip:port`, `[ipv6]:port`) and the lowest TTL. */
export interface Resolution {
  readonly nodes: readonly string[];
  /** SRV only: the weight of each node (see srvNodeWeight); empty for A/AAAA (all weigh 1). */
  readonly weights: NodeWeights;
  /** Lowest TTL of the records used, in ms; undefined when unknown (SRV) or nothing was returned. */
  readonly ttlMs: number | undefined;
  /** SRV only: why targets were left out (`target: reason`), sorted; empty when none was. */
  readonly skipped: readonly string[];
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
 * follows HAProxy's resolvers: each target is resolved on its own (A and AAAA), a target
 * without any address (none, or both lookups failed) is left out and named in `skipped`, and a
 * failed AAAA lookup next to good A answers still gives the A addresses. Only the targets of the
 * lowest priority that has addresses are used, with the record's port unless the spec sets one,
 * and each of a target's addresses takes the record's weight (summed when several records give
 * the same address; 0 counts as 1, see srvNodeWeight). A target of "." is a valid empty set. NXDOMAIN or a failure of the SRV
 * query itself, or of an A/AAAA query, rejects with POSTERN_ERR_DISCOVERY_FAILED so the caller
 * keeps its last good set.
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
    weights: NO_WEIGHTS,
    ttlMs: lowestTtl(records),
    skipped: [],
  };
}

interface SrvTarget {
  readonly priority: number;
  /** The SRV record's weight, as published (0 to 65535). */
  readonly weight: number;
  readonly nodes: readonly string[];
  /** Why the target gave no node; undefined when it did. */
  readonly problem: string | undefined;
}

async function resolveSrv(resolver: Resolver, spec: DnsDiscoverySpec): Promise<Resolution> {
  let records;
  try {
    records = await resolver.resolveSrv(spec.name);
  } catch (err) {
    if (codeOf(err) === NO_DATA) {
      return { nodes: [], weights: NO_WEIGHTS, ttlMs: undefined, skipped: [] };
    }
    const detail = codeOf(err) === NO_NAME ? 'service not found (NXDOMAIN)' : codeOf(err);
    throw trafficErrors.discoveryFailed(spec.name, 'SRV', detail, err);
  }
  const targets = await Promise.all(
    records
      .filter((r) => r.name !== '' && r.name !== '.')
      .map((r) => resolveTarget(resolver, r, spec.port ?? r.port)),
  );
  const usable = targets.filter((t) => t.problem === undefined);
  const best = Math.min(...usable.map((t) => t.priority));
  const chosen = usable.filter((t) => t.priority === best);
  const skipped = targets.flatMap((t) => (t.problem === undefined ? [] : [t.problem]));
  // resolveSrv does not report the SRV record's TTL, so SRV pools refresh every min_interval_ms
  // (at least 1 s): never later than the TTLs when min_interval_ms is at most the lowest TTL.
  return {
    nodes: unique(chosen.flatMap((t) => t.nodes)),
    weights: weightsOf(chosen),
    ttlMs: undefined,
    skipped: [...new Set(skipped)].sort(),
  };
}

/** Node weights of the chosen targets: the record's weight, summed over records per address. */
function weightsOf(targets: readonly SrvTarget[]): NodeWeights {
  const sums = new Map<string, number>();
  for (const t of targets) for (const n of t.nodes) sums.set(n, (sums.get(n) ?? 0) + t.weight);
  return new Map([...sums].map(([address, sum]) => [address, srvNodeWeight(sum)]));
}

/** Both families of one SRV target; never rejects. */
async function resolveTarget(
  resolver: Resolver,
  record: { name: string; port: number; priority: number; weight: number },
  port: number,
): Promise<SrvTarget> {
  const [v4, v6] = await Promise.allSettled([
    lookup(resolver, record.name, 4),
    lookup(resolver, record.name, 6),
  ]);
  const found = [
    ...(v4.status === 'fulfilled' ? v4.value : []),
    ...(v6.status === 'fulfilled' ? v6.value : []),
  ];
  if (found.length > 0) {
    const nodes = found.map((a) => nodeAddress(a.address, port));
    return { priority: record.priority, weight: record.weight, nodes, problem: undefined };
  }
  const failures = [
    ...(v4.status === 'rejected' ? [`A ${codeOf(v4.reason)}`] : []),
    ...(v6.status === 'rejected' ? [`AAAA ${codeOf(v6.reason)}`] : []),
  ];
  const why = failures.length === 0 ? 'no A or AAAA record' : failures.join(', ');
  const problem = `${record.name}: ${why}`;
  return { priority: record.priority, weight: record.weight, nodes: [], problem };
}

type AddressRecord = { address: string; ttl: number };

/** The addresses of `name`; none for NXDOMAIN or no data; rejects with the resolver's error. */
async function lookup(resolver: Resolver, name: string, family: 4 | 6): Promise<AddressRecord[]> {
  try {
    return family === 4
      ? await resolver.resolve4(name, { ttl: true })
      : await resolver.resolve6(name, { ttl: true });
  } catch (err) {
    const code = codeOf(err);
    if (code === NO_NAME || code === NO_DATA) return [];
    throw err;
  }
}

async function addresses(
  resolver: Resolver,
  name: string,
  family: 4 | 6,
): Promise<AddressRecord[]> {
  try {
    return await lookup(resolver, name, family);
  } catch (err) {
    throw trafficErrors.discoveryFailed(name, family === 4 ? 'A' : 'AAAA', codeOf(err), err);
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
