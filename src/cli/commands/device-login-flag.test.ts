import test from 'node:test';
import assert from 'node:assert/strict';
import { isPosternError } from '../../core/index.js';
import { deviceLoginEnabled } from './device-login-flag.js';

test('--device-login takes on or off (any case); absent means the default (on)', () => {
  assert.equal(deviceLoginEnabled(undefined), undefined);
  assert.equal(deviceLoginEnabled('on'), true);
  assert.equal(deviceLoginEnabled('off'), false);
  assert.equal(deviceLoginEnabled('OFF'), false);
});

test('--device-login with anything but on or off is a plain argument error', () => {
  for (const bad of ['yes', 'false', '0', '']) {
    assert.throws(
      () => deviceLoginEnabled(bad),
      (err) => isPosternError(err, 'POSTERN_ERR_INVALID_ARGUMENT'),
      bad,
    );
  }
});
