import { test } from 'node:test';
import assert from 'node:assert/strict';
import { konnectivityOptions } from './konnectivity-flags.js';

test('--konnectivity-max-pending-dials reaches the frontend; nonsense is refused naming the flag', () => {
  const base = { konnectivityUds: '/run/k.sock', proxyStrategies: 'default' };
  assert.equal(
    konnectivityOptions({ ...base, konnectivityMaxPendingDials: '5000' })?.maxPendingDials,
    5000,
  );
  assert.equal(konnectivityOptions(base)?.maxPendingDials, undefined, 'absent: the default');
  for (const bad of ['0', '-1', '2.5', 'many'])
    assert.throws(() => konnectivityOptions({ ...base, konnectivityMaxPendingDials: bad }), {
      code: 'POSTERN_ERR_INVALID_ARGUMENT',
      message: /--konnectivity-max-pending-dials/,
    });
  assert.equal(konnectivityOptions({ proxyStrategies: 'default' }), undefined, 'no listener: off');
});
