import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requiredRole, roleAllows } from './admin-roles.js';

describe('admin roles', () => {
  test('viewers read, operators change, admins alone handle tokens, key creation, restore and identity providers', () => {
    const cases: [string, string, string][] = [
      ['GET', '/api/v1/pools', 'viewer'],
      ['GET', '/api/v1/audit-log', 'viewer'],
      ['PUT', '/api/v1/pools/:name', 'operator'],
      ['DELETE', '/api/v1/connectors/:id', 'operator'],
      ['POST', '/api/v1/connectors/:id/drain', 'operator'],
      ['POST', '/api/v1/provisioning-keys/:id/revoke', 'operator'],
      ['PATCH', '/api/v1/provisioning-keys/:id', 'operator'],
      ['POST', '/api/v1/provisioning-keys', 'admin'],
      ['GET', '/api/v1/admin-tokens', 'admin'],
      ['POST', '/api/v1/admin-tokens/:id/revoke', 'admin'],
      ['POST', '/api/v1/restore', 'admin'],
      ['GET', '/api/v1/identity-providers', 'viewer'],
      ['GET', '/api/v1/identity-providers/:name', 'viewer'],
      ['POST', '/api/v1/identity-providers', 'admin'],
      ['PUT', '/api/v1/identity-providers/:name', 'admin'],
      ['PATCH', '/api/v1/identity-providers/:name', 'admin'],
      ['DELETE', '/api/v1/identity-providers/:name', 'admin'],
      ['PUT', '/api/v1/access-policies/:name', 'operator'],
    ];
    for (const [method, url, role] of cases)
      assert.equal(requiredRole(method, url), role, `${method} ${url}`);
  });

  test('each role includes the weaker ones', () => {
    assert.equal(roleAllows('admin', 'operator'), true);
    assert.equal(roleAllows('operator', 'viewer'), true);
    assert.equal(roleAllows('operator', 'admin'), false);
    assert.equal(roleAllows('viewer', 'operator'), false);
    assert.equal(roleAllows('viewer', 'viewer'), true);
  });
});
