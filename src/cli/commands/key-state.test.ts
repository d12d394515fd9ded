import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyState } from './key-state.js';

const NOW = Date.UTC(2030, 0, 1);
const base = { enabled: true, revoked: false, usage_count: 0, max_usage: 10 };
const past = new Date(NOW - 1).toISOString();
const future = new Date(NOW + 60_000).toISOString();

test('a key is enabled until it expires, is used up, disabled or revoked', () => {
  assert.equal(keyState(base, NOW), 'enabled');
  assert.equal(keyState({ ...base, expires_at: future }, NOW), 'enabled');
  assert.equal(keyState({ ...base, expires_at: past }, NOW), 'expired');
  assert.equal(keyState({ ...base, expires_at: new Date(NOW).toISOString() }, NOW), 'expired');
  assert.equal(keyState({ ...base, usage_count: 10 }, NOW), 'exhausted');
  assert.equal(keyState({ ...base, enabled: false }, NOW), 'disabled');
  assert.equal(keyState({ ...base, revoked: true }, NOW), 'revoked');
});

test('when several states apply, the one the operator cannot undo is shown', () => {
  const everything = { enabled: false, revoked: true, usage_count: 10, max_usage: 10 };
  assert.equal(keyState({ ...everything, expires_at: past }, NOW), 'revoked');
  assert.equal(keyState({ ...everything, revoked: false, expires_at: past }, NOW), 'expired');
  assert.equal(keyState({ ...everything, revoked: false }, NOW), 'exhausted');
});
