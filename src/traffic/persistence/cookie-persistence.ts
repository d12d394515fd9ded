import { createHash, createHmac } from 'node:crypto';

/** How cookie persistence is configured. */
export interface CookiePersistenceOptions {
  /** Cookie that carries the node token. */
  readonly cookieName: string;
  /** Max-Age of the cookie; undefined = a browser-session cookie. */
  readonly ttlMs?: number | undefined;
}

/**
 * The opaque token naming a node in a persistence cookie, derived from the pool name and node
 * address, so every edge replica and every configuration generation agrees on it without shared
 * state. With `key` (a secret the edges of an HA set share) it is an HMAC, so the cookie does not
 * reveal the node's address: a plain hash (nginx's sticky cookie) can be reversed by trying the
 * addresses of a private range. Without a key (tests, a pool used on its own) a plain hash.
 */
export function nodeToken(pool: string, address: string, key?: Uint8Array): string {
  const text = `${pool}\n${address}`;
  const digest =
    key === undefined ? createHash('sha256').update(text) : createHmac('sha256', key).update(text);
  return digest.digest('base64url').slice(0, 22);
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
