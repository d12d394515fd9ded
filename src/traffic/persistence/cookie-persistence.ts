import { createHash } from 'node:crypto';

/** How cookie persistence is configured. */
export interface CookiePersistenceOptions {
  /** Cookie that carries the node token. */
  readonly cookieName: string;
  /** Max-Age of the cookie; undefined = a browser-session cookie. */
  readonly ttlMs?: number | undefined;
}

/**
 * The opaque token naming a node in a persistence cookie. It is derived from the pool name and
 * node address alone, so every edge replica and every configuration generation agrees on it
 * without shared state, and the cookie does not reveal the node's address.
 */
export function nodeToken(pool: string, address: string): string {
  return createHash('sha256').update(`${pool}\n${address}`).digest('base64url').slice(0, 22);
}

/**
 * The `Set-Cookie` header value that pins a client to the node with `token`; `secure` (the
 * request came over TLS) keeps browsers from ever sending it in clear text.
 */
export function setCookieHeader(
  options: CookiePersistenceOptions,
  token: string,
  secure = false,
): string {
  const maxAge =
    options.ttlMs === undefined ? '' : `; Max-Age=${Math.max(1, Math.floor(options.ttlMs / 1000))}`;
  return `${options.cookieName}=${token}; Path=/; HttpOnly; SameSite=Lax${maxAge}${secure ? '; Secure' : ''}`;
}

/**
 * The token a request carries: `cookie` may be the whole `Cookie` header (name=value pairs) or
 * just the value of the persistence cookie. Tokens are base64url, so a value never holds `=`.
 */
export function tokenFromCookie(cookieName: string, cookie: string): string | undefined {
  if (!cookie.includes('=')) return cookie.trim() || undefined;
  let from = 0;
  while (from < cookie.length) {
    const end = cookie.indexOf(';', from);
    const pair = cookie.slice(from, end < 0 ? cookie.length : end);
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === cookieName) return pair.slice(eq + 1).trim();
    if (end < 0) break;
    from = end + 1;
  }
  return undefined;
}
