import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRequestId } from './request-ids.js';

test('request ids are UUID-shaped and distinct', () => {
  const ids = Array.from({ length: 1000 }, () => nextRequestId());
  for (const id of ids)
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
});
