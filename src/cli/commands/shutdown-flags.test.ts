import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shutdownOptions } from './shutdown-flags.js';

test('shutdown flags give milliseconds, leave absent ones to the defaults and accept 0', () => {
  assert.deepEqual(shutdownOptions({}), {});
  assert.deepEqual(shutdownOptions({ shutdownGrace: '5', drainTimeout: '0.5' }), {
    shutdownGraceMs: 5000,
    drainTimeoutMs: 500,
  });
  assert.deepEqual(shutdownOptions({ shutdownGrace: '0' }), { shutdownGraceMs: 0 });
  assert.deepEqual(shutdownOptions({ reloadDrainTimeout: '7200' }), {
    reloadDrainTimeoutMs: 7_200_000,
  });
});

test('--reload-drain-timeout takes 0 to a day and is refused beyond, with the flag named', () => {
  assert.deepEqual(shutdownOptions({ reloadDrainTimeout: '0' }), { reloadDrainTimeoutMs: 0 });
  assert.throws(
    () => shutdownOptions({ reloadDrainTimeout: '86401' }),
    (err: Error & { code?: string }) =>
      err.code === 'POSTERN_ERR_INVALID_ARGUMENT' && err.message.includes('--reload-drain-timeout'),
  );
});

test('a shutdown flag that is not 0 to 3600 seconds is refused with the flag named', () => {
  for (const bad of ['-1', 'soon', '3601', 'Infinity']) {
    assert.throws(
      () => shutdownOptions({ drainTimeout: bad }),
      (err: Error & { code?: string }) =>
        err.code === 'POSTERN_ERR_INVALID_ARGUMENT' && err.message.includes('--drain-timeout'),
      bad,
    );
  }
});
