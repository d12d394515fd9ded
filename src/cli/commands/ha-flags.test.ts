import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { edgeAddressOptions, edgeHaOptions, keepaliveOptions, secondsFlag } from './ha-flags.js';
import { workerPlan, workerServerId } from './edge-workers.js';

test('--edge takes one address (load balancer) or a comma list of edges', () => {
  assert.deepEqual(edgeAddressOptions(undefined), {});
  assert.deepEqual(edgeAddressOptions('lb:8443'), { edgeAddress: 'lb:8443' });
  assert.deepEqual(edgeAddressOptions('a:1, b:2,'), { edgeAddresses: ['a:1', 'b:2'] });
});

test('seconds flags become milliseconds; bad values are a coded error', () => {
  assert.equal(secondsFlag('0.5', '--x'), 500);
  assert.equal(secondsFlag(undefined, '--x'), undefined);
  assert.throws(() => secondsFlag('-1', '--lease-ttl'), { code: 'POSTERN_ERR_INVALID_ARGUMENT' });
  assert.throws(() => secondsFlag('soon', '--lease-ttl'), /--lease-ttl/);
  assert.deepEqual(keepaliveOptions({ keepaliveTimeout: '2' }), { keepAliveTimeoutMs: 2000 });
  assert.deepEqual(edgeHaOptions({ leaseTtl: '3', configPoll: '1', keepaliveInterval: '0.5' }), {
    leaseTtlMs: 3000,
    configPollMs: 1000,
    keepAliveIntervalMs: 500,
  });
});

test('--workers: every core by default with PostgreSQL, one with the embedded store', () => {
  const pg = 'postgres://u@h/db';
  assert.deepEqual(workerPlan(undefined, undefined), { role: 'single' });
  assert.deepEqual(workerPlan('1', pg), { role: 'single' });
  assert.deepEqual(workerPlan('3', pg), { role: 'primary', count: 3 });
  const cores = availableParallelism();
  assert.deepEqual(
    workerPlan(undefined, pg),
    cores > 1 ? { role: 'primary', count: cores } : { role: 'single' },
  );
  assert.throws(() => workerPlan('2', undefined), { code: 'POSTERN_ERR_INVALID_ARGUMENT' });
  assert.throws(() => workerPlan('0', pg), { code: 'POSTERN_ERR_INVALID_ARGUMENT' });
  assert.deepEqual(workerServerId({ role: 'worker', index: 2, baseServerId: 'edge-a' }, 'x'), {
    serverId: 'edge-a-w2',
  });
  assert.deepEqual(workerServerId({ role: 'single' }, 'edge-a'), { serverId: 'edge-a' });
  assert.deepEqual(workerServerId({ role: 'single' }, undefined), {});
});
