import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPosternError } from '../../core/index.js';
import {
  adminRoleFor,
  describeAdminRoleMapping,
  parseAdminRoleMapping,
} from './admin-role-mapping.js';

const user = (groups: string[], email?: string) => ({ groups, email });

describe('admin role mapping', () => {
  const mapping = parseAdminRoleMapping(
    'admin=postern-admins, operator=ops,viewer=staff,viewer=ops-interns,admin=Boss@Example.com',
  );

  test('a group maps to its role and unrelated groups map to nothing', () => {
    assert.equal(adminRoleFor(user(['staff']), mapping), 'viewer');
    assert.equal(adminRoleFor(user(['ops']), mapping), 'operator');
    assert.equal(adminRoleFor(user(['postern-admins']), mapping), 'admin');
    assert.equal(adminRoleFor(user(['sales', 'eng']), mapping), undefined);
    assert.equal(adminRoleFor(user([]), mapping), undefined);
  });

  test('the strongest role of all the user groups wins, whatever their order', () => {
    assert.equal(adminRoleFor(user(['staff', 'ops']), mapping), 'operator');
    assert.equal(adminRoleFor(user(['ops', 'staff']), mapping), 'operator');
    assert.equal(adminRoleFor(user(['staff', 'postern-admins', 'ops']), mapping), 'admin');
  });

  test('an email member matches the user email without case; group names match exactly', () => {
    assert.equal(adminRoleFor(user([], 'boss@example.com'), mapping), 'admin');
    assert.equal(adminRoleFor(user(['staff'], 'BOSS@EXAMPLE.COM'), mapping), 'admin');
    assert.equal(adminRoleFor(user([], 'other@example.com'), mapping), undefined);
    assert.equal(adminRoleFor(user(['Staff']), mapping), undefined);
  });

  test('a member named under two roles keeps the stronger one', () => {
    const twice = parseAdminRoleMapping('operator=ops,viewer=ops');
    assert.equal(adminRoleFor(user(['ops']), twice), 'operator');
    assert.equal(describeAdminRoleMapping(twice), 'operator=ops');
  });

  test('the description lists every pair, strongest role first', () => {
    assert.equal(
      describeAdminRoleMapping(mapping),
      'admin=postern-admins,admin=boss@example.com,operator=ops,viewer=staff,viewer=ops-interns',
    );
  });

  test('an unknown role, a pair without member and an empty spec are refused with the code', () => {
    for (const [spec, why] of [
      ['owner=admins', /"owner" is not a role/],
      ['admin=', /"admin=" is not role=member/],
      ['admins', /"admins" is not role=member/],
      [' , ', /maps nothing/],
    ] as const) {
      assert.throws(
        () => parseAdminRoleMapping(spec),
        (err: unknown) =>
          isPosternError(err) &&
          err.code === 'POSTERN_ERR_ADMIN_ROLE_MAPPING_INVALID' &&
          why.test(err.message),
        spec,
      );
    }
  });
});
