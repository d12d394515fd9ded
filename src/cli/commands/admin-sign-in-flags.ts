import { identityErrors, parseAdminRoleMapping } from '../../control/index.js';
import type { EdgeOptions } from '../../edge/index.js';

/**
 * The edge's console sign-in from `--admin-identity-provider` and `--admin-role-groups`; both or
 * neither (POSTERN_ERR_ADMIN_ROLE_MAPPING_INVALID otherwise).
 */
export function adminSignInOptions(o: {
  readonly adminIdentityProvider?: string | undefined;
  readonly adminRoleGroups?: string | undefined;
}): EdgeOptions['adminSignIn'] {
  const idp = o.adminIdentityProvider?.trim() || undefined;
  const spec = o.adminRoleGroups?.trim() || undefined;
  if (idp === undefined && spec === undefined) return undefined;
  if (idp === undefined) {
    throw identityErrors.adminRoleMappingInvalid(
      spec ?? '',
      'it needs --admin-identity-provider NAME too',
    );
  }
  if (spec === undefined) {
    throw identityErrors.adminRoleMappingInvalid(
      '',
      `--admin-identity-provider ${idp} needs --admin-role-groups to say who gets which role`,
    );
  }
  return { identityProvider: idp, roles: parseAdminRoleMapping(spec) };
}
