import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combineHealth, initialMonitorState, recordCheck } from './health-state.js';

const thresholds = { failures: 3, successes: 2 };
const at = 0;

test('an unchecked node is up after one success', () => {
  const state = initialMonitorState();
  assert.equal(recordCheck(state, { ok: true, at }, thresholds), true);
  assert.equal(state.health, 'up');
});

test('a node goes down only after `failures` consecutive failures', () => {
  const state = initialMonitorState();
  recordCheck(state, { ok: true, at }, thresholds);
  assert.equal(recordCheck(state, { ok: false, detail: 'refused', at }, thresholds), false);
  assert.equal(recordCheck(state, { ok: false, at }, thresholds), false);
  assert.equal(state.health, 'up');
  assert.equal(recordCheck(state, { ok: false, detail: 'boom', at }, thresholds), true);
  assert.equal(state.health, 'down');
  assert.equal(state.lastError, 'boom');
});

test('a success in between restarts the failure count', () => {
  const state = initialMonitorState();
  recordCheck(state, { ok: true, at }, thresholds);
  for (const ok of [false, false, true, false, false]) recordCheck(state, { ok, at }, thresholds);
  assert.equal(state.health, 'up');
});

test('a down node needs `successes` consecutive successes to be up again', () => {
  const state = initialMonitorState();
  for (let i = 0; i < 3; i++) recordCheck(state, { ok: false, at }, thresholds);
  assert.equal(state.health, 'down');
  assert.equal(recordCheck(state, { ok: true, at }, thresholds), false);
  assert.equal(state.health, 'down');
  recordCheck(state, { ok: false, at }, thresholds);
  recordCheck(state, { ok: true, at }, thresholds);
  assert.equal(state.health, 'down');
  assert.equal(recordCheck(state, { ok: true, at: 5 }, thresholds), true);
  assert.equal(state.health, 'up');
  assert.equal(state.lastCheckAt, 5);
});

test('an unchecked node that keeps failing goes down at the failure threshold', () => {
  const state = initialMonitorState();
  recordCheck(state, { ok: false, at }, thresholds);
  recordCheck(state, { ok: false, at }, thresholds);
  assert.equal(state.health, 'unknown');
  recordCheck(state, { ok: false, at }, thresholds);
  assert.equal(state.health, 'down');
});

test('combined health is down if any monitor says down, up only if all say up', () => {
  assert.equal(combineHealth(['up', 'down', 'unknown']), 'down');
  assert.equal(combineHealth(['up', 'up']), 'up');
  assert.equal(combineHealth(['up', 'unknown']), 'unknown');
  assert.equal(combineHealth([]), 'unknown');
});

test('lastError is cleared once the node is up again; the last failure and its time stay', () => {
  const state = initialMonitorState();
  for (let i = 0; i < 3; i++)
    recordCheck(state, { ok: false, detail: 'refused', at: 10 }, thresholds);
  assert.equal(state.health, 'down');
  assert.deepEqual(
    [state.lastError, state.lastFailure, state.lastFailureAt],
    ['refused', 'refused', 10],
  );
  // Still down after one success of two: the error that keeps it down stays.
  recordCheck(state, { ok: true, at: 20 }, thresholds);
  assert.equal(state.lastError, 'refused');
  recordCheck(state, { ok: true, at: 30 }, thresholds);
  assert.equal(state.health, 'up');
  assert.equal(state.lastError, undefined);
  assert.deepEqual([state.lastFailure, state.lastFailureAt], ['refused', 10]);
});

test('a failed check below the failure threshold shows as lastError until the next success', () => {
  const state = initialMonitorState();
  recordCheck(state, { ok: true, at }, thresholds);
  recordCheck(state, { ok: false, detail: 'timeout', at: 7 }, thresholds);
  assert.equal(state.health, 'up');
  assert.equal(state.lastError, 'timeout');
  recordCheck(state, { ok: true, at: 8 }, thresholds);
  assert.equal(state.lastError, undefined);
  assert.deepEqual([state.lastFailure, state.lastFailureAt], ['timeout', 7]);
});
