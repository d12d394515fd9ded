import type { Configuration } from './document.js';
import type { HostPort } from './host-port.js';
import { formatHostPort, hostPortProblem, parseHostPort } from './host-port.js';
import type { Finding } from './finding.js';

/**
 * Enabled virtual servers whose listen addresses cannot both bind: the same port on the same
 * host, or on a wildcard (`0.0.0.0` covers every IPv4 address, `[::]` every address).
 */
export function listenClashes(servers: Configuration['virtual_servers']): Finding[] {
  const seen: { name: string; address: HostPort }[] = [];
  const findings: Finding[] = [];
  servers.forEach((vs, i) => {
    if (!vs.enabled || hostPortProblem(vs.listen) !== undefined) return;
    const address = parseHostPort(vs.listen);
    const other = seen.find((s) => clashes(s.address, address));
    if (other !== undefined) {
      findings.push({
        object: vs,
        path: ['virtual_servers', i],
        field: ['listen'],
        message:
          `listen address ${formatHostPort(address)} clashes with virtual server ` +
          `"${other.name}" (${formatHostPort(other.address)}); give each enabled virtual ` +
          `server its own address or port`,
      });
    }
    seen.push({ name: vs.name, address });
  });
  return findings;
}

/**
 * True when two listeners cannot both bind: same port and the same host, or one of them the
 * wildcard covering the other. Host names are compared as written (they are not resolved).
 */
function clashes(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port) return false;
  return a.host === b.host || covers(a, b) || covers(b, a);
}

function covers(wildcard: HostPort, other: HostPort): boolean {
  // Node binds "::" dual-stack, so it takes the port on every IPv4 and IPv6 address.
  if (wildcard.host === '::') return true;
  return wildcard.host === '0.0.0.0' && other.family !== 'ipv6';
}
