import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerCpus } from './container-cpus.js';

/** A reader of fixed cgroup files. */
function files(map: Record<string, string>) {
  return (path: string) => map[path];
}

test('a cgroup v2 CPU limit caps the cores, rounded up', () => {
  const read = files({ '/sys/fs/cgroup/cpu.max': '200000 100000\n' });
  assert.equal(containerCpus({ cores: 32, read }), 2);
  assert.equal(
    containerCpus({ cores: 32, read: files({ '/sys/fs/cgroup/cpu.max': '150000 100000' }) }),
    2,
  );
  assert.equal(
    containerCpus({ cores: 32, read: files({ '/sys/fs/cgroup/cpu.max': '50000 100000' }) }),
    1,
    'half a CPU still runs one worker',
  );
});

test('no quota (v2 "max", v1 -1, no cgroup files) leaves the cores as they are', () => {
  assert.equal(
    containerCpus({ cores: 8, read: files({ '/sys/fs/cgroup/cpu.max': 'max 100000' }) }),
    8,
  );
  assert.equal(
    containerCpus({
      cores: 8,
      read: files({
        '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1',
        '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
      }),
    }),
    8,
  );
  assert.equal(containerCpus({ cores: 8, read: files({}) }), 8);
});

test('a cgroup v1 quota caps the cores; a quota above the cores changes nothing', () => {
  const v1 = (quota: string) =>
    files({
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': quota,
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
    });
  assert.equal(containerCpus({ cores: 16, read: v1('400000') }), 4);
  assert.equal(containerCpus({ cores: 2, read: v1('800000') }), 2);
});
