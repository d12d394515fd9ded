import type { AdminRole } from '../../store/index.js';
import { ADMIN_ROLES, isAdminRole } from '../admin-roles.js';
import { identityErrors } from './errors.js';
import type { UserIdentity } from './user-identity.js';

/**
 * Which identity-provider groups and user emails get which admin role. A member that contains
 * `@` names a user's email; anything else names a group.
 */
export interface AdminRoleMapping {
  readonly groups: ReadonlyMap<string, AdminRole>;
  readonly emails: ReadonlyMap<string, AdminRole>;
}

/**
 * Parses `admin=postern-admins,operator=ops,viewer=staff,admin=alice@example.com`: comma-separated
 * `role=member` pairs, a role may repeat. Throws POSTERN_ERR_ADMIN_ROLE_MAPPING_INVALID.
 */
export function parseAdminRoleMapping(spec: string): AdminRoleMapping {
  const groups = new Map<string, AdminRole>();
  const emails = new Map<string, AdminRole>();
  const pairs = spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (pairs.length === 0) throw identityErrors.adminRoleMappingInvalid(spec, 'it maps nothing');
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const role = pair.slice(0, eq).trim();
    const member = pair.slice(eq + 1).trim();
    if (eq <= 0 || member === '') {
      throw identityErrors.adminRoleMappingInvalid(spec, `"${pair}" is not role=member`);
    }
    if (!isAdminRole(role)) {
      throw identityErrors.adminRoleMappingInvalid(
        spec,
        `"${role}" is not a role (${ADMIN_ROLES.join(', ')})`,
      );
    }
    // Emails compare without case, as mail systems do; group names are the provider's, exact.
    const [target, key] = member.includes('@') ? [emails, member.toLowerCase()] : [groups, member];
    target.set(key, stronger(target.get(key), role) ?? role);
  }
  return { groups, emails };
}

/**
 * The strongest role `identity` gets from `mapping` (its email and every group count), or
 * undefined when nothing maps it.
 */
export function adminRoleFor(
  identity: Pick<UserIdentity, 'email' | 'groups'>,
  mapping: AdminRoleMapping,
): AdminRole | undefined {
  let role: AdminRole | undefined;
  if (identity.email !== undefined) {
    role = stronger(role, mapping.emails.get(identity.email.toLowerCase()));
  }
  for (const group of identity.groups) role = stronger(role, mapping.groups.get(group));
  return role;
}

/** The mapping as `role=member` pairs, strongest role first (for pages and logs). */
export function describeAdminRoleMapping(mapping: AdminRoleMapping): string {
  const pairs = [...mapping.groups, ...mapping.emails].map(([member, role]) => ({ member, role }));
  pairs.sort((a, b) => ADMIN_ROLES.indexOf(b.role) - ADMIN_ROLES.indexOf(a.role));
  return pairs.map((p) => `${p.role}=${p.member}`).join(',');
}

function stronger(a: AdminRole | undefined, b: AdminRole | undefined): AdminRole | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return ADMIN_ROLES.indexOf(a) >= ADMIN_ROLES.indexOf(b) ? a : b;
}
