import type { CollectionObject, PortRange } from '../../config/index.js';
import { parsePortRange } from '../../config/index.js';
import { parseCidr, parseIpAddress } from './ip-address.js';
import { PrefixTable } from './prefix-table.js';

/** A validated, frozen application from the configuration. */
type Application = CollectionObject<'applications'>;

/** An application with its port ranges parsed once. */
interface Entry {
  readonly app: Application;
  readonly ports: readonly PortRange[];
}

/**
 * Finds the application a destination belongs to, like ZPA's application segments: the most
 * specific entry whose ports include the destination port wins. For names an exact domain
 * beats a wildcard and a longer wildcard suffix beats a shorter one; for addresses the longest
 * CIDR prefix wins. Among equally specific entries the application listed first wins. Disabled
 * applications match nothing. Names never match CIDRs and addresses never match domains: the
 * matcher does not resolve names (the connector does, in its own network).
 */
export class ApplicationMatcher {
  readonly #exact = new Map<string, Entry[]>();
  readonly #wildcard = new Map<string, Entry[]>();
  readonly #networks = new PrefixTable<Entry>();

  /** Compiles the enabled applications into lookup tables. */
  constructor(applications: readonly Application[]) {
    for (const app of applications) {
      if (!app.enabled) continue;
      const entry: Entry = { app, ports: app.ports.flatMap((p) => parsePortRange(p) ?? []) };
      for (const domain of app.domains) {
        const name = normalizeName(domain);
        if (name.startsWith('*.')) push(this.#wildcard, name.slice(2), entry);
        else push(this.#exact, name, entry);
      }
      for (const cidr of app.cidrs) {
        const network = parseCidr(cidr);
        if (network !== undefined) this.#networks.add(network, entry);
      }
    }
  }

  /** The application serving `host:port` (host a name, IPv4 or IPv6), or undefined. */
  match(host: string, port: number): Application | undefined {
    const address = parseIpAddress(host);
    if (address !== undefined) {
      for (const { values } of this.#networks.matches(address)) {
        const hit = withPort(values, port);
        if (hit !== undefined) return hit;
      }
      return undefined;
    }
    const name = normalizeName(host);
    const exact = withPort(this.#exact.get(name), port);
    if (exact !== undefined) return exact;
    // Walk the suffixes longest first: "a.b.corp.internal" tries "b.corp.internal" first.
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
      const hit = withPort(this.#wildcard.get(name.slice(dot + 1)), port);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
}

function withPort(entries: readonly Entry[] | undefined, port: number): Application | undefined {
  return entries?.find((e) => e.ports.some((r) => port >= r.from && port <= r.to))?.app;
}

/** Lower-case without a trailing dot, as DNS compares names. */
function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function push(map: Map<string, Entry[]>, key: string, entry: Entry): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [entry]);
  else if (!list.includes(entry)) list.push(entry);
}
