import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enrollmentOptions } from './enrollment-flags.js';

test('--expired-renewal-grace takes a duration; absent or empty keeps the default; nonsense is refused', () => {
  assert.deepEqual(enrollmentOptions({ expiredRenewalGrace: '7d' }), {
    expiredRenewalGraceMs: 7 * 86_400_000,
  });
  assert.deepEqual(enrollmentOptions({ expiredRenewalGrace: '0s' }), { expiredRenewalGraceMs: 0 });
  assert.deepEqual(enrollmentOptions({}), {});
  assert.deepEqual(enrollmentOptions({ expiredRenewalGrace: '' }), {});
  assert.throws(() => enrollmentOptions({ expiredRenewalGrace: 'a week' }), {
    code: 'POSTERN_ERR_INVALID_ARGUMENT',
  });
});
