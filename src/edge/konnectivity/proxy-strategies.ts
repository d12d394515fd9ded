import type { Identifiers } from '../../protocol/index.js';
import { konnectivityErrors } from './errors.js';
import { canonicalIp, parsePrefix, prefixContains, type IpPrefix } from './ip-prefix.js';

/** Strategy names, spelled as apiserver-network-proxy's `--proxy-strategies` spells them (plus `cidr`). */
export const PROXY_STRATEGIES = ['destHost', 'cidr', 'defaultRoute', 'default'] as const;

/** One way of finding connectors for a destination. */
export type ProxyStrategy = (typeof PROXY_STRATEGIES)[number];

/** What selection needs to know about a connector. */
export interface Candidate {
  readonly connectorId: string;
  readonly identifiers: Identifiers;
  readonly activeSessions: number;
  readonly draining: boolean;
}

/** The connector chosen for a destination and the strategy that found it. */
export interface Selection<C extends Candidate> {
  readonly connector: C;
  readonly strategy: ProxyStrategy;
}

/** How {@link selectConnector} chooses. */
export interface SelectOptions {
  /** Tried in order; the first that offers a usable connector wins. */
  readonly strategies: readonly ProxyStrategy[];
  /** Connectors already tried for this request. Default none. */
  readonly exclude?: ReadonlySet<string>;
  /** Breaks ties between equally loaded connectors (a counter the caller advances). Default 0. */
  readonly tieBreak?: number;
}

/** Parses `--proxy-strategies` (comma-separated, order matters); throws a coded error. */
export function parseProxyStrategies(text: string): ProxyStrategy[] {
  const names = text.split(',').map((s) => s.trim());
  const known = new Set<string>(PROXY_STRATEGIES);
  const out: ProxyStrategy[] = [];
  for (const name of names) {
    if (name === '') throw konnectivityErrors.badStrategy(text, 'an entry is empty');
    if (!known.has(name)) throw konnectivityErrors.badStrategy(text, `unknown strategy "${name}"`);
    if (out.includes(name as ProxyStrategy))
      throw konnectivityErrors.badStrategy(text, `"${name}" is listed twice`);
    out.push(name as ProxyStrategy);
  }
  return out;
}

/**
 * Picks the connector for a destination host: each strategy in order offers the connectors it
 * matches (skipping draining and excluded ones); the first non-empty offer wins, and within
 * it the connector with the fewest active sessions (ties rotate by `tieBreak`).
 */
export function selectConnector<C extends Candidate>(
  candidates: readonly C[],
  host: string,
  options: SelectOptions,
): Selection<C> | undefined {
  const exclude = options.exclude ?? new Set<string>();
  const usable = candidates.filter((c) => !c.draining && !exclude.has(c.connectorId));
  for (const strategy of options.strategies) {
    const offered = matchStrategy(strategy, usable, host);
    if (offered.length > 0)
      return { connector: leastLoaded(offered, options.tieBreak ?? 0), strategy };
  }
  return undefined;
}

/** The connectors one strategy offers for `host` (no load or drain filtering). */
export function matchStrategy<C extends Candidate>(
  strategy: ProxyStrategy,
  candidates: readonly C[],
  host: string,
): C[] {
  switch (strategy) {
    case 'destHost':
      return destHostMatches(candidates, host);
    case 'cidr':
      return longestPrefixMatches(candidates, host);
    case 'defaultRoute':
      return candidates.filter((c) => c.identifiers.defaultRoute);
    case 'default':
      return [...candidates];
  }
}

/** Exact match of the destination against host names (case-insensitive) and IP addresses (canonical). */
function destHostMatches<C extends Candidate>(candidates: readonly C[], host: string): C[] {
  const ip = canonicalIp(host);
  const name = host.toLowerCase().replace(/\.$/, '');
  return candidates.filter((c) => {
    const ids = c.identifiers;
    if (ip !== undefined)
      return [...ids.ipv4, ...ids.ipv6, ...ids.host].some((v) => canonicalIp(v) === ip);
    return ids.host.some((h) => h.toLowerCase().replace(/\.$/, '') === name);
  });
}

/** Connectors whose advertised CIDRs contain the address with the longest prefix; names never match. */
function longestPrefixMatches<C extends Candidate>(candidates: readonly C[], host: string): C[] {
  if (canonicalIp(host) === undefined) return [];
  let best = -1;
  let matches: C[] = [];
  for (const c of candidates) {
    const length = longestContaining(prefixesOf(c.identifiers), host);
    if (length > best) {
      best = length;
      matches = [c];
    } else if (length === best && length >= 0) {
      matches.push(c);
    }
  }
  return best >= 0 ? matches : [];
}

function longestContaining(prefixes: readonly IpPrefix[], address: string): number {
  let best = -1;
  for (const p of prefixes) if (p.length > best && prefixContains(p, address)) best = p.length;
  return best;
}

// A connector's identifiers live as long as its tunnel: parse its CIDRs once, not per request.
const parsed = new WeakMap<Identifiers, IpPrefix[]>();

function prefixesOf(identifiers: Identifiers): IpPrefix[] {
  let prefixes = parsed.get(identifiers);
  if (!prefixes) {
    prefixes = identifiers.cidr.flatMap((c) => parsePrefix(c) ?? []);
    parsed.set(identifiers, prefixes);
  }
  return prefixes;
}

function leastLoaded<C extends Candidate>(offered: readonly C[], tieBreak: number): C {
  const min = Math.min(...offered.map((c) => c.activeSessions));
  const least = offered.filter((c) => c.activeSessions === min);
  return least[Math.abs(tieBreak) % least.length]!;
}
