import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DirectDialer } from './direct-dial.js';
import { FakeClock } from '../core/index.js';
import { TestBackend } from './health/test-backend.js';
import { Pool } from './pool.js';
import { poolEvents, until } from './test-pool-events.js';

let one: TestBackend;
let two: TestBackend;
before(async () => {
  one = await TestBackend.start();
  two = await TestBackend.start();
});
after(async () => {
  await one.down();
  await two.down();
});

const picked = (pool: Pool, count: number) =>
  new Set(
    Array.from({ length: count }, () => {
      const pick = pool.pick();
      pick.done({ ok: true });
      return pick.node.address;
    }),
  );

test('an http monitor takes a node out after `failures` failed checks and back after `successes`', async () => {
  const clock = new FakeClock();
  const recorder = poolEvents();
  const pool = Pool.fromConfig(
    {
      name: 'web',
      nodes: [{ address: one.address }, { address: two.address }],
      monitors: ['health'],
    },
    {
      monitors: [
        {
          name: 'health',
          type: 'http',
          path: '/healthz',
          delay_ms: 1_000,
          timeout_ms: 500,
          failures: 3,
          successes: 2,
        },
      ],
      dialer: new DirectDialer(),
      clock,
      onEvent: recorder.onEvent,
    },
  );
  const checks = (address: string) =>
    pool.status().nodes.find((n) => n.address === address)!.monitors[0]!.checks;
  const checkRound = async (n: number) => {
    clock.advance(1_000);
    await until(() => checks(one.address) === n && checks(two.address) === n, `check round ${n}`);
  };
  pool.start();
  await until(() => checks(one.address) === 1 && checks(two.address) === 1, 'the first checks');
  assert.deepEqual(
    pool.status().nodes.map((n) => n.health),
    ['up', 'up'],
  );
  for (let i = 0; i < 2; i++) assert.equal((await recorder.next('node_health')).health, 'up');
  assert.equal(one.seen.at(-1)?.path, '/healthz');

  await two.down();
  await checkRound(2);
  await checkRound(3);
  assert.deepEqual(picked(pool, 4), new Set([one.address, two.address]));
  await checkRound(4);
  const down = await recorder.next('node_health');
  assert.deepEqual(
    [down.address, down.health, down.source],
    [two.address, 'down', 'monitor:health'],
  );
  assert.deepEqual(picked(pool, 4), new Set([one.address]));
  assert.match(pool.status().nodes[1]!.monitors[0]!.lastError ?? '', /REFUSED/);

  await two.up();
  await checkRound(5);
  assert.deepEqual(picked(pool, 4), new Set([one.address]));
  await checkRound(6);
  const up = await recorder.next('node_health');
  assert.deepEqual([up.address, up.health], [two.address, 'up']);
  assert.deepEqual(picked(pool, 4), new Set([one.address, two.address]));
  pool.close();
});

test('when the only node fails its checks the pool panics, and recovers with the node', async () => {
  const clock = new FakeClock();
  const recorder = poolEvents();
  const pool = Pool.fromConfig(
    { name: 'solo', nodes: [{ address: one.address }], monitors: ['tcp'], panic: 'none' },
    {
      monitors: [{ name: 'tcp', type: 'tcp', delay_ms: 1_000, failures: 1, successes: 1 }],
      dialer: new DirectDialer(),
      clock,
      onEvent: recorder.onEvent,
    },
  );
  pool.start();
  await recorder.next('node_health');
  await one.down();
  clock.advance(1_000);
  assert.equal((await recorder.next('node_health')).health, 'down');
  assert.throws(() => pool.pick(), { code: 'POSTERN_ERR_POOL_DOWN' });
  assert.deepEqual(await recorder.next('panic'), {
    type: 'panic',
    pool: 'solo',
    panic: true,
    mode: 'none',
  });
  assert.equal(pool.status().down, true);
  await one.up();
  clock.advance(1_000);
  assert.equal((await recorder.next('node_health')).health, 'up');
  assert.equal(pool.pick().node.address, one.address);
  assert.equal((await recorder.next('panic')).panic, false);
  pool.close();
});

test('close stops the monitors', async () => {
  const clock = new FakeClock();
  const pool = Pool.fromConfig(
    { name: 'web', nodes: [{ address: one.address }], monitors: ['tcp'] },
    {
      monitors: [{ name: 'tcp', type: 'tcp', delay_ms: 1_000 }],
      dialer: new DirectDialer(),
      clock,
    },
  );
  pool.start();
  await until(() => pool.status().nodes[0]!.monitors[0]!.checks === 1, 'the first check');
  pool.close();
  assert.equal(clock.pending, 0);
});
