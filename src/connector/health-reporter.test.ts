import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { initialMonitorState, recordCheck } from '../traffic/index.js';
import { HealthReporter } from './health-reporter.js';

const thresholds = { failures: 3, successes: 2 };

test('the first result of a check is sent, and a change of outcome is always sent', () => {
  const reporter = new HealthReporter({ heartbeatMs: 60_000 });
  assert.equal(reporter.record('k', true, thresholds, 0), true);
  assert.equal(reporter.record('k', true, thresholds, 1), true, 'second success: up to successes');
  assert.equal(reporter.record('k', true, thresholds, 2), false, 'past the threshold: quiet');
  assert.equal(reporter.record('k', false, thresholds, 3), true, 'a failure after successes');
  assert.equal(reporter.record('k', true, thresholds, 4), true, 'a success after a failure');
});

test('equal results are sent up to the threshold of their kind, then only as heartbeats', () => {
  const reporter = new HealthReporter({ heartbeatMs: 1000 });
  const sent = [0, 10, 20, 30, 40, 500, 1019, 1020, 2019, 2020].map((at) =>
    reporter.record('k', false, thresholds, at),
  );
  // Three failures (the threshold) go out; then one per heartbeat interval since the last send.
  assert.deepEqual(sent, [true, true, true, false, false, false, false, true, false, true]);
});

test('after resetRuns the next results are sent up to the threshold again; retain forgets checks', () => {
  const reporter = new HealthReporter({ heartbeatMs: 60_000 });
  for (let i = 0; i < 5; i++) reporter.record('a', true, thresholds, i);
  reporter.record('b', true, thresholds, 0);
  assert.equal(reporter.record('a', true, thresholds, 10), false);
  reporter.resetRuns();
  assert.equal(reporter.record('a', true, thresholds, 11), true);
  assert.equal(reporter.record('a', true, thresholds, 12), true);
  assert.equal(reporter.record('a', true, thresholds, 13), false);
  reporter.retain(new Set(['a']));
  assert.equal(reporter.size, 1);
  assert.equal(reporter.record('b', true, thresholds, 14), true, 'a forgotten check starts over');
});

test('the edge reaches the same health from the sent results as from every result', () => {
  fc.assert(
    fc.property(
      fc.array(fc.boolean(), { maxLength: 60 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 50 }),
      (results, failures, successes, heartbeatMs) => {
        const limits = { failures, successes };
        const reporter = new HealthReporter({ heartbeatMs });
        const everything = initialMonitorState();
        const sentOnly = initialMonitorState();
        results.forEach((ok, at) => {
          recordCheck(everything, { ok, at }, limits);
          if (reporter.record('k', ok, limits, at)) recordCheck(sentOnly, { ok, at }, limits);
          assert.equal(sentOnly.health, everything.health);
        });
      },
    ),
  );
});
