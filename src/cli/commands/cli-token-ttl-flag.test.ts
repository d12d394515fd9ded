import test from 'node:test';
import assert from 'node:assert/strict';
import { isPosternError } from '../../core/index.js';
import { cliTokenTtlMs } from './cli-token-ttl-flag.js';

test('--cli-token-ttl takes the duration syntax of other flags; absent means the default', () => {
  assert.equal(cliTokenTtlMs(undefined), undefined);
  assert.equal(cliTokenTtlMs('8h'), 8 * 3600_000);
  assert.equal(cliTokenTtlMs('5m'), 5 * 60_000);
  assert.equal(cliTokenTtlMs('7d'), 7 * 86_400_000);
});

test('--cli-token-ttl outside 5m..7d or not a duration is a plain argument error', () => {
  for (const bad of ['4m', '8d', '169h', '8 hours', '']) {
    assert.throws(
      () => cliTokenTtlMs(bad),
      (err) => isPosternError(err, 'POSTERN_ERR_INVALID_ARGUMENT'),
      bad,
    );
  }
});
