import type { Identifiers, TargetRule } from '../protocol/index.js';

/** The destinations a connector's advertised identifiers open to dials from the edge. */
export interface IdentifierGrant {
  /** Exact host names, own addresses and CIDRs, each on every port. */
  readonly rules: readonly TargetRule[];
  /** `default-route=true`: the operator made this connector a route to anywhere. */
  readonly allowAll: boolean;
}

const ALL_PORTS: [number, number] = [1, 65535];

/**
 * Turns identifiers into dial permission. Advertising an identifier is the operator's consent
 * that the edge may reach it through this connector (that is how Konnectivity routes to it),
 * so the grant is exactly the advertised set: names match exactly (never as wildcards),
 * addresses as single-address prefixes, CIDRs as given.
 */
export function identifierGrant(identifiers: Identifiers): IdentifierGrant {
  const rules: TargetRule[] = [];
  for (const host of identifiers.host) {
    if (!host.includes('*'))
      rules.push({ host: host.toLowerCase().replace(/\.$/, ''), ports: ALL_PORTS });
  }
  for (const ip of identifiers.ipv4) rules.push({ cidr: `${ip}/32`, ports: ALL_PORTS });
  for (const ip of identifiers.ipv6) rules.push({ cidr: `${ip}/128`, ports: ALL_PORTS });
  for (const cidr of identifiers.cidr) rules.push({ cidr, ports: ALL_PORTS });
  return { rules, allowAll: identifiers.defaultRoute };
}
