import type { AdminRole } from '../store/index.js';

/** Every role, weakest first. */
export const ADMIN_ROLES: readonly AdminRole[] = ['viewer', 'operator', 'admin'];

/**
 * Routes only `admin` may use (for `method`, any method when absent, or every change when
 * `writes`): admin tokens, creating provisioning keys (the answer carries the key's secret),
 * backup or restore of the whole state, and changes to identity providers: whoever controls a
 * provider controls who signs in, and the admin console's sign-in (`--admin-identity-provider`)
 * maps a provider's groups to admin roles, so an operator who could point it at their own
 * issuer would make themselves admin.
 */
const ADMIN_ONLY: readonly { method?: string; writes?: true; url: RegExp }[] = [
  { url: /^\/api\/v1\/admin-tokens(\/|$)/ },
  { method: 'POST', url: /^\/api\/v1\/provisioning-keys$/ },
  { url: /^\/api\/v1\/(backup|restore)(\/|$)/ },
  { writes: true, url: /^\/api\/v1\/identity-providers(\/|$)/ },
  // Revoking a user ends their sessions and tokens: a lockout tool, so admins only.
  { writes: true, url: /^\/api\/v1\/user-revocations(\/|$)/ },
];

/**
 * The weakest role allowed to call a route: `viewer` reads (GET), `operator` changes
 * everything else, `admin` is needed for the routes above.
 */
export function requiredRole(method: string, routeUrl: string): AdminRole {
  const m = method.toUpperCase();
  const reads = m === 'GET' || m === 'HEAD';
  const adminOnly = ADMIN_ONLY.some(
    (r) =>
      (r.writes === true ? !reads : r.method === undefined || r.method === m) &&
      r.url.test(routeUrl),
  );
  if (adminOnly) return 'admin';
  return reads ? 'viewer' : 'operator';
}

/** Whether `role` is at least `needed`. */
export function roleAllows(role: AdminRole, needed: AdminRole): boolean {
  return ADMIN_ROLES.indexOf(role) >= ADMIN_ROLES.indexOf(needed);
}

/** Whether a value names a role. */
export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === 'string' && (ADMIN_ROLES as readonly string[]).includes(value);
}
