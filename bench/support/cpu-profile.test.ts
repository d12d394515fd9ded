import assert from 'node:assert/strict';
import { test } from 'node:test';
import { categoryOf, formatSummary, summarizeProfile } from './cpu-profile.js';
import type { CpuProfile } from './cpu-profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({
  functionName,
  url,
  lineNumber,
});

/** Samples 1 ms apart at these node ids; sample i lasts until sample i + 1. */
function profile(samples: number[]): CpuProfile {
  return {
    startTime: 1_000_000,
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5] },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('writeBuffer') },
      { id: 4, callFrame: frame('flush', 'file:///repo/dist/src/tunnel/send-scheduler.js', 104) },
      { id: 5, callFrame: frame('emit', 'node:events', 470) },
    ],
    samples,
    timeDeltas: samples.map(() => 1000),
  };
}

test('summarizeProfile gives each function its self time and keeps idle apart', () => {
  // The last sample has no successor, so it counts no time.
  const s = summarizeProfile(profile([2, 2, 3, 3, 3, 4, 5, 2]));
  assert.equal(s.idleMs, 2);
  assert.equal(s.busyMs, 5);
  assert.deepEqual(
    s.functions.map((f) => [f.name, f.ms]),
    [
      ['writeBuffer', 3],
      ['flush src/tunnel/send-scheduler.js:105', 1],
      ['emit node:events:471', 1],
    ],
  );
  assert.equal(s.functions[0]?.share, 0.6);
  assert.deepEqual(
    s.categories.map((c) => c.name),
    ['native (called from JS)', 'postern tunnel', 'node core (JS)'],
  );
  assert.ok(formatSummary('edge', s).includes('60.0%  writeBuffer'));
});

test('summarizeProfile counts only samples inside the given window', () => {
  // Sample i is taken at startTime + (i + 1) ms: the window keeps samples 3, 4 and 5.
  const s = summarizeProfile(profile([2, 2, 3, 3, 3, 4, 5, 2]), {
    fromUs: 1_004_000,
    toUs: 1_007_000,
  });
  assert.equal(s.busyMs, 3);
  assert.equal(s.idleMs, 0);
  assert.deepEqual(
    s.functions.map((f) => [f.name, f.ms]),
    [
      ['writeBuffer', 2],
      ['flush src/tunnel/send-scheduler.js:105', 1],
    ],
  );
});

test('categoryOf tells V8 pseudo frames, native, node core, dependencies and postern areas apart', () => {
  assert.equal(categoryOf(frame('(garbage collector)')), '(garbage collector)');
  assert.equal(categoryOf(frame('writev')), 'native (called from JS)');
  assert.equal(categoryOf(frame('x', 'node:net')), 'node core (JS)');
  assert.equal(categoryOf(frame('x', 'file:///r/node_modules/pino/pino.js')), 'dependencies');
  assert.equal(categoryOf(frame('x', 'file:///r/dist/src/edge/edge.js')), 'postern edge');
});
