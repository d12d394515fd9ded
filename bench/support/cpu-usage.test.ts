import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuSeconds, measureCpu, parseProcStat, treeTicks } from './cpu-usage.js';

test('parseProcStat reads pid, ppid and utime + stime after a name with spaces and parentheses', () => {
  const line =
    '4242 (node (edge) x) S 17 4242 4242 0 -1 4194560 10 0 0 0 350 125 0 0 20 0 11 0 99 1 1';
  assert.deepEqual(parseProcStat(line), { pid: 4242, ppid: 17, ticks: 475 });
});

test('parseProcStat rejects a line that is not /proc/PID/stat', () => {
  assert.throws(() => parseProcStat('hello'), /not a \/proc\/PID\/stat line/);
});

test('treeTicks sums a process and all its descendants, not its siblings', () => {
  const stats = [
    { pid: 1, ppid: 0, ticks: 1000 },
    { pid: 10, ppid: 1, ticks: 5 },
    { pid: 11, ppid: 10, ticks: 7 },
    { pid: 12, ppid: 11, ticks: 11 },
    { pid: 20, ppid: 1, ticks: 100 },
  ];
  assert.equal(treeTicks(stats, 10), 23);
  assert.equal(treeTicks(stats, 12), 11);
  assert.equal(treeTicks(stats, 99), 0);
});

test('cpuSeconds of this process follows process.cpuUsage while it spins', () => {
  const read = (): number => cpuSeconds([process.pid])?.[0] ?? Number.NaN;
  const before = read();
  const usageBefore = process.cpuUsage();
  // Spin until /proc shows 100 ms more CPU time (bounded: a loaded machine gives less).
  const until = performance.now() + 5_000;
  let x = 0;
  while (read() - before < 0.1 && performance.now() < until) {
    for (let i = 0; i < 100_000; i++) x += Math.sqrt(i);
  }
  const grown = read() - before;
  const usage = process.cpuUsage(usageBefore);
  assert.ok(x > 0);
  assert.ok(grown >= 0.1, `grew by ${grown} s`);
  // /proc counts in 10 ms ticks; allow a few ticks of difference from the precise counter.
  assert.ok(Math.abs(grown - (usage.user + usage.system) / 1e6) < 0.05);
});

test('measureCpu sees a busy process use CPU and a sleeping one hardly any', async () => {
  const me = [{ name: 'bench', pid: process.pid }];
  const busy = await measureCpu(me, () => {
    const until = performance.now() + 300;
    let n = 0;
    while (performance.now() < until) n++;
    return Promise.resolve(n);
  });
  assert.ok(busy.value > 0);
  const idle = await measureCpu(me, () => new Promise((resolve) => setTimeout(resolve, 300)));
  const [busyShare = 0] = busy.shares;
  const [idleShare = 0] = idle.shares;
  assert.ok(busyShare > 0.1, `busy share ${busyShare}`);
  assert.ok(idleShare < busyShare, `idle ${idleShare} vs busy ${busyShare}`);
});
