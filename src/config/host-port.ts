import { z } from 'zod';
import { ConfigErrors } from './errors.js';

/** A parsed `host:port`; `host` carries no brackets, IPv6 is in canonical form. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
  readonly family: 'ipv4' | 'ipv6' | 'hostname';
}

const ipv4 = z.ipv4();
const ipv6 = z.ipv6();
const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const digits = /^[0-9]{1,5}$/;

/**
 * Parses `name:port`, `IPv4:port` or `[IPv6]:port` and throws POSTERN_ERR_INVALID_HOST_PORT
 * with the reason when the text is not one of those.
 */
export function parseHostPort(input: string): HostPort {
  const reason = hostPortProblem(input);
  if (reason !== undefined) throw ConfigErrors.invalidHostPort(input, reason);
  return split(input);
}

/** Formats a HostPort back to text, bracketing IPv6 addresses. */
export function formatHostPort(address: Pick<HostPort, 'host' | 'port'>): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** The reason `input` is not a valid host:port, or undefined when it is valid. */
export function hostPortProblem(input: string): string | undefined {
  const colon = input.lastIndexOf(':');
  if (colon < 0) return 'the port is missing';
  const host = input.slice(0, colon);
  const port = input.slice(colon + 1);
  if (!digits.test(port)) return `the port "${port}" is not a number`;
  const n = Number(port);
  if (n < 1 || n > 65535) return `the port ${n} is outside 1..65535`;
  if (host === '') return 'the host is missing (use 0.0.0.0 or [::] for every address)';
  if (host.startsWith('[') || host.endsWith(']')) {
    const inner = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : '';
    return ipv6.safeParse(inner).success ? undefined : `"${host}" is not a bracketed IPv6 address`;
  }
  if (host.includes(':')) return 'an IPv6 address needs brackets, as in [::1]:443';
  return hostProblem(host);
}

function hostProblem(host: string): string | undefined {
  if (ipv4.safeParse(host).success) return undefined;
  if (host.length > 253) return 'the host name is longer than 253 characters';
  const labels = host.split('.');
  if (!labels.every((l) => label.test(l))) {
    return `"${host}" is neither an IPv4 address nor a valid host name`;
  }
  // An all-numeric last label is a mistyped IPv4 address, never a real name (RFC 3696 §2).
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    return `"${host}" is not a valid IPv4 address`;
  }
  return undefined;
}

function split(input: string): HostPort {
  const colon = input.lastIndexOf(':');
  const rawHost = input.slice(0, colon);
  const port = Number(input.slice(colon + 1));
  if (rawHost.startsWith('[')) {
    // WHATWG URL gives the canonical IPv6 text, so [::0] and [::] compare equal.
    const canonical = new URL(`http://${rawHost}/`).hostname.slice(1, -1);
    return { host: canonical, port, family: 'ipv6' };
  }
  const family = ipv4.safeParse(rawHost).success ? 'ipv4' : 'hostname';
  return { host: family === 'hostname' ? rawHost.toLowerCase() : rawHost, port, family };
}
