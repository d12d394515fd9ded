import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCpuTimes, readCpuTimes, stealShare } from './host-steal.js';

test('the aggregate cpu line gives total and steal ticks; per-cpu lines are ignored', () => {
  const stat = 'cpu  100 0 50 800 10 0 20 20 0 0\ncpu0 60 0 20 400 5 0 10 5 0 0\nintr 1\n';
  assert.deepEqual(parseCpuTimes(stat), { total: 1000, steal: 20 });
  assert.throws(() => parseCpuTimes('intr 1\n'), /no aggregate cpu line/);
});

test('the stolen share is the steal ticks over all ticks between two readings', () => {
  const before = { total: 1000, steal: 20 };
  assert.equal(stealShare(before, { total: 2000, steal: 270 }), 0.25);
  assert.equal(stealShare(before, before), undefined);
  assert.equal(stealShare(undefined, before), undefined);
});

test('this Linux host reports its CPU times', () => {
  const times = readCpuTimes();
  assert.ok(times && times.total > 0 && times.steal >= 0);
});
