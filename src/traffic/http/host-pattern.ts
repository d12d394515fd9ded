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
