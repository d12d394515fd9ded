// Postern's own cookies (browser sessions, logins, device approvals, the console's sign-in) belong
// to the edge alone: a client's copies never reach a node, and a node can never set them.

/**
 * True when a cookie name is one of Postern's (compared without case): `__Host-postern-*` of
 * browser sessions, logins and device approvals, and `postern-admin-login`.
 */
export function isPosternCookieName(name: string): boolean {
  const lower = name.trim().toLowerCase();
  return lower.startsWith('__host-postern-') || lower === 'postern-admin-login';
}

/** True when a `name=value` pair (of a Cookie field) is one of Postern's cookies. */
export function isPosternCookie(pair: string): boolean {
  const eq = pair.indexOf('=');
  return isPosternCookieName(eq < 0 ? pair : pair.slice(0, eq));
}

/**
 * True when a Set-Cookie value sets one of Postern's cookies. A node that does so (session
 * fixation, or logging users out) has that field removed: the `__Host-` prefix keeps other
 * hosts from setting them, not an application behind the edge on the same host.
 */
export function setsPosternCookie(setCookie: string): boolean {
  const semi = setCookie.indexOf(';');
  return isPosternCookie(semi < 0 ? setCookie : setCookie.slice(0, semi));
}

/** Cheap pre-check: a value that cannot name a Postern cookie (most values) skips parsing. */
export function mayNamePosternCookie(value: string): boolean {
  return /postern-/i.test(value);
}
