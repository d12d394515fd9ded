import { isIPv6 } from 'node:net';

/** Tests whether a request's host (already normalized) matches a configured pattern. */
export type HostMatcher = (host: string) => boolean;

/**
 * Compiles a host pattern: an exact name, `*.suffix` (any name ending in `.suffix`, one or
 * more labels deep) or `*` (any host). Comparison is case-insensitive.
 */
export function compileHostPattern(pattern: string): HostMatcher {
  const p = pattern.toLowerCase();
  if (p === '*') return () => true;
  if (p.startsWith('*.')) {
    const suffix = p.slice(1);
    return (host) => host.length > suffix.length && host.endsWith(suffix);
  }
  return (host) => host === p;
}

/** Lower-cases a Host header or SNI name and removes the port and a trailing dot. */
export function normalizeHost(host: string | undefined): string {
  if (!host) return '';
  let h = host;
  if (h.charCodeAt(0) === 91 /* [ */) {
    const end = h.indexOf(']');
    h = end < 0 ? h : h.slice(0, end + 1);
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}

/**
 * True when `path` (a request target, query allowed) starts with `prefix` on a segment boundary:
 * `/v1` matches `/v1`, `/v1/x` and `/v1?q` but not `/v10`; a prefix ending in `/` matches as is.
 */
export function pathHasPrefix(path: string, prefix: string): boolean {
  if (prefix === '' || prefix === '/') return true;
  if (!path.startsWith(prefix)) return false;
  if (path.length === prefix.length || prefix.endsWith('/')) return true;
  const next = path.charCodeAt(prefix.length);
  return next === 47 /* / */ || next === 63; /* ? */
}

// reg-name as DNS and most servers know it: letters, digits, `-`, `_`, `~`, non-empty labels,
// one optional trailing dot. Stricter than RFC 3986 (no sub-delims such as `;`), like the hosts
// routes and certificates can name.
const REG_NAME = /^[A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*\.?$/;
const PORT = /^\d{0,5}$/;

/**
 * True when `value` is a valid Host field or authority (RFC 9112 §3.2): a host name, IPv4
 * address or bracketed IPv6 address, then optionally `:` and a port up to 65535.
 */
export function isValidHost(value: string): boolean {
  let rest: string;
  if (value.charCodeAt(0) === 91 /* [ */) {
    const end = value.indexOf(']');
    if (end < 0 || !isIPv6(value.slice(1, end))) return false;
    rest = value.slice(end + 1);
  } else {
    const colon = value.indexOf(':');
    const name = colon < 0 ? value : value.slice(0, colon);
    if (!REG_NAME.test(name)) return false;
    rest = colon < 0 ? '' : value.slice(colon);
  }
  if (rest === '') return true;
  if (rest.charCodeAt(0) !== 58 /* : */) return false;
  const port = rest.slice(1);
  return PORT.test(port) && Number(port) <= 65535;
}
