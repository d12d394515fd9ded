import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StoredObject } from '../store/index.js';
import { orderAccessPolicies, POLICY_ORDER_KIND } from './access-policy-order.js';

const object = (kind: string, name: string, createdAt: number, spec: unknown = {}): StoredObject =>
  ({ kind, name, spec, owner: 'api', createdAt, updatedAt: createdAt }) as StoredObject;

describe('access policy order', () => {
  test('policies follow the stored order, newer ones go last by creation; others keep their place', () => {
    const objects = [
      object('access_policy', 'a', 1),
      object('access_policy', 'b', 2),
      object(POLICY_ORDER_KIND, 'default', 0, { names: ['c', 'gone', 'a'] }),
      object('pool', 'p', 0),
      object('access_policy', 'c', 3),
      object('access_policy', 'd', 5),
      object('access_policy', 'e', 4),
    ];
    const ordered = orderAccessPolicies(objects);
    assert.deepEqual(
      ordered.filter((o) => o.kind === 'access_policy').map((o) => o.name),
      // Listed ones first (c, a; 'gone' no longer exists), then by creation: b 2, e 4, d 5.
      ['c', 'a', 'b', 'e', 'd'],
    );
    assert.equal(ordered[3]?.name, 'p', 'a pool keeps its index');
    assert.equal(ordered.length, objects.length);
  });

  test('without a stored order, policies are in creation order', () => {
    const ordered = orderAccessPolicies([
      object('access_policy', 'z', 1),
      object('access_policy', 'a', 2),
    ]);
    assert.deepEqual(
      ordered.map((o) => o.name),
      ['z', 'a'],
    );
  });
});
