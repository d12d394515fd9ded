import net from 'node:net';
import type { Identifiers } from '../protocol/index.js';
import { connectorErrors } from './errors.js';

/** Keys of `--agent-identifiers`, spelled as apiserver-network-proxy's agent spells them. */
export const AGENT_IDENTIFIER_KEYS = ['host', 'ipv4', 'ipv6', 'cidr', 'default-route'] as const;

// The same bounds the edge applies to a hello (src/protocol/messages.ts identifiersSchema).
const MAX_ENTRIES = { host: 64, ipv4: 64, ipv6: 64, cidr: 256 } as const;
const HOST_NAME =
  /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

/**
 * Parses Konnectivity's agent identifiers, a URL query string such as
 * `host=node1&ipv4=10.0.0.5&cidr=10.0.0.0/16&default-route=true` (keys may repeat; values may
 * be %-encoded). Every value is checked; an unknown key or a bad value is a coded error.
 */
export function parseAgentIdentifiers(text: string): Identifiers {
  const out: Identifiers = { host: [], ipv4: [], ipv6: [], cidr: [], defaultRoute: false };
  const trimmed = text.trim().replace(/^\?/, '');
  if (trimmed === '') return out;
  for (const [key, value] of new URLSearchParams(trimmed)) {
    const problem = addIdentifier(out, key, value.trim());
    if (problem) throw connectorErrors.badIdentifiers(text, problem);
  }
  for (const [key, max] of Object.entries(MAX_ENTRIES)) {
    if (out[key as keyof typeof MAX_ENTRIES].length > max)
      throw connectorErrors.badIdentifiers(text, `more than ${max} ${key} values`);
  }
  return out;
}

/** Adds one key=value; returns what is wrong with it, if anything. */
function addIdentifier(out: Identifiers, key: string, value: string): string | undefined {
  switch (key) {
    case 'host':
      if (value.length > 253 || !HOST_NAME.test(value)) return `host "${value}" is not a host name`;
      out.host.push(value.toLowerCase());
      return undefined;
    case 'ipv4':
      if (!net.isIPv4(value)) return `ipv4 "${value}" is not an IPv4 address`;
      out.ipv4.push(value);
      return undefined;
    case 'ipv6':
      if (!net.isIPv6(value) || value.includes('%'))
        return `ipv6 "${value}" is not an IPv6 address`;
      out.ipv6.push(value);
      return undefined;
    case 'cidr':
      if (!isCidr(value)) return `cidr "${value}" is not address/prefix-length`;
      out.cidr.push(value);
      return undefined;
    case 'default-route':
      if (value !== 'true' && value !== 'false') return `default-route must be true or false`;
      out.defaultRoute = value === 'true';
      return undefined;
    default:
      return `unknown key "${key}" (known: ${AGENT_IDENTIFIER_KEYS.join(', ')})`;
  }
}

function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  const address = value.slice(0, slash);
  const length = value.slice(slash + 1);
  const family = net.isIP(address);
  if (slash < 0 || family === 0 || !/^[0-9]{1,3}$/.test(length) || value.length > 49) return false;
  return Number(length) <= (family === 4 ? 32 : 128);
}
