import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import { FakeClock } from '../../core/index.js';
import { RecordingDialer } from '../test-recording-dialer.js';
import { HealthChecker } from './health-checker.js';
import { monitorSpecFromConfig } from './monitor-spec.js';
import type { ProbeResult } from './probe.js';
import { TestBackend } from './test-backend.js';

/** Collects results and lets a test await the next one, bounded in time. */
function results() {
  const seen: { address: string; result: ProbeResult }[] = [];
  let wake: (() => void) | undefined;
  return {
    seen,
    onResult: (address: string, _monitor: unknown, result: ProbeResult) => {
      seen.push({ address, result });
      wake?.();
    },
    async count(n: number): Promise<void> {
      const deadline = Date.now() + 5_000;
      while (seen.length < n) {
        assert.ok(Date.now() < deadline, `only ${seen.length} of ${n} results arrived`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

let web: TestBackend;
before(async () => {
  web = await TestBackend.start();
});
after(async () => {
  await web.down();
});

const monitor = (extra: object = {}) =>
  monitorSpecFromConfig({ name: 'web', type: 'http', delay_ms: 1_000, timeout_ms: 500, ...extra });

test('the first check runs at start and the next one delay_ms after it finished', async () => {
  const clock = new FakeClock();
  const dialer = new RecordingDialer();
  const r = results();
  const checker = new HealthChecker({
    pool: 'p',
    via: undefined,
    monitors: [monitor()],
    dialer,
    clock,
    onResult: r.onResult,
  });
  checker.setNodes([web.address]);
  checker.start();
  await r.count(1);
  assert.deepEqual(r.seen[0], { address: web.address, result: { ok: true, detail: 'status 200' } });
  clock.advance(999);
  assert.equal(dialer.dials.length, 1);
  clock.advance(1);
  assert.equal(dialer.dials.length, 2);
  await r.count(2);
  checker.stop();
});

test('a check with no answer within timeout_ms fails with a timeout', async () => {
  const clock = new FakeClock();
  const r = results();
  const checker = new HealthChecker({
    pool: 'p',
    via: undefined,
    monitors: [monitor()],
    dialer: new DirectDialer(),
    clock,
    onResult: r.onResult,
  });
  web.hang = true;
  const before = web.seen.length;
  checker.setNodes([web.address]);
  checker.start();
  const deadline = Date.now() + 2_000;
  while (web.seen.length === before && Date.now() < deadline)
    await new Promise((f) => setTimeout(f, 5));
  assert.equal(r.seen.length, 0);
  clock.advance(500);
  await r.count(1);
  web.hang = false;
  assert.deepEqual(r.seen[0]?.result, { ok: false, detail: 'no answer within 500 ms' });
  checker.stop();
});

test('setNodes starts checking new nodes and stops checking removed ones', async () => {
  const clock = new FakeClock();
  const dialer = new RecordingDialer();
  const r = results();
  const other = await TestBackend.start();
  const checker = new HealthChecker({
    pool: 'p',
    via: undefined,
    monitors: [monitor(), monitor({ name: 'tcp', type: 'tcp' })],
    dialer,
    clock,
    onResult: r.onResult,
  });
  checker.setNodes([web.address]);
  checker.start();
  assert.equal(checker.loops, 2);
  await r.count(2);
  checker.setNodes([other.address]);
  assert.equal(checker.loops, 2);
  await r.count(4);
  clock.advance(1_000);
  await r.count(6);
  assert.deepEqual(dialer.dials.slice(2).sort(), Array<string>(4).fill(other.address));
  checker.stop();
  await other.down();
});

test('stop cancels pending checks and reports nothing more', async () => {
  const clock = new FakeClock();
  const dialer = new RecordingDialer();
  const r = results();
  const checker = new HealthChecker({
    pool: 'p',
    via: undefined,
    monitors: [monitor()],
    dialer,
    clock,
    onResult: r.onResult,
  });
  checker.setNodes([web.address]);
  checker.start();
  checker.stop();
  assert.equal(checker.running, false);
  assert.equal(clock.pending, 0);
  clock.advance(10_000);
  await new Promise((f) => setTimeout(f, 50));
  assert.equal(r.seen.length, 0);
  assert.equal(dialer.dials.length, 1);
});
