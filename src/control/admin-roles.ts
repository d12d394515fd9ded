import type { AdminRole } from '../store/index.js';

/** Every role, weakest first. */
export const ADMIN_ROLES: readonly AdminRole[] = ['viewer', 'operator', 'admin'];

/**
 * Routes only `admin` may use, whatever the method: admin tokens, creating provisioning keys
 * (the answer carries the key's secret), and backup or restore of the whole state.
 */
const ADMIN_ONLY: readonly { method?: string; url: RegExp }[] = [
  { url: /^\/api\/v1\/admin-tokens(\/|$)/ },
  { method: 'POST', url: /^\/api\/v1\/provisioning-keys$/ },
  { url: /^\/api\/v1\/(backup|restore)(\/|$)/ },
];

/**
 * The weakest role allowed to call a route: `viewer` reads (GET), `operator` changes
 * everything else, `admin` is needed for the routes above.
 */
export function requiredRole(method: string, routeUrl: string): AdminRole {
  const m = method.toUpperCase();
  if (ADMIN_ONLY.some((r) => (r.method === undefined || r.method === m) && r.url.test(routeUrl))) {
    return 'admin';
  }
  return m === 'GET' || m === 'HEAD' ? 'viewer' : 'operator';
}

/** Whether `role` is at least `needed`. */
export function roleAllows(role: AdminRole, needed: AdminRole): boolean {
  return ADMIN_ROLES.indexOf(role) >= ADMIN_ROLES.indexOf(needed);
}

/** Whether a value names a role. */
export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === 'string' && (ADMIN_ROLES as readonly string[]).includes(value);
}
