import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminRoleFor } from '../../control/index.js';
import { isPosternError } from '../../core/index.js';
import { adminSignInOptions } from './admin-sign-in-flags.js';

const refused = (err: unknown) =>
  isPosternError(err) && err.code === 'POSTERN_ERR_ADMIN_ROLE_MAPPING_INVALID';

test('neither flag leaves the sign-in off; both give the provider and the parsed mapping', () => {
  assert.equal(adminSignInOptions({}), undefined);
  assert.equal(adminSignInOptions({ adminIdentityProvider: ' ', adminRoleGroups: '' }), undefined);
  const options = adminSignInOptions({
    adminIdentityProvider: 'corp',
    adminRoleGroups: 'admin=postern-admins,viewer=staff',
  });
  assert.equal(options?.identityProvider, 'corp');
  assert.equal(adminRoleFor({ groups: ['staff'] }, options.roles), 'viewer');
});

test('one flag without the other is refused, saying which one is missing', () => {
  assert.throws(
    () => adminSignInOptions({ adminIdentityProvider: 'corp' }),
    (err: unknown) => refused(err) && /needs --admin-role-groups/.test((err as Error).message),
  );
  assert.throws(
    () => adminSignInOptions({ adminRoleGroups: 'admin=ops' }),
    (err: unknown) =>
      refused(err) && /needs --admin-identity-provider/.test((err as Error).message),
  );
});
