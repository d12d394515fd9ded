import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRequestId } from './request-ids.js';

test('request ids are random UUIDs: distinct, and two in a row share no counter', () => {
  const ids = Array.from({ length: 1000 }, () => nextRequestId());
  for (const id of ids)
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
  // A prefix + counter scheme gives ids that agree in their first 24 characters.
  const sharedPrefix = ids.slice(1).filter((id, i) => id.slice(0, 24) === ids[i]?.slice(0, 24));
  assert.equal(sharedPrefix.length, 0, 'consecutive ids share no prefix');
  const tails = ids.map((id) => Number.parseInt(id.slice(-12), 16));
  const steps = tails.slice(1).filter((t, i) => t - (tails[i] as number) === 1);
  assert.ok(steps.length < 5, 'the last group does not count up');
});
