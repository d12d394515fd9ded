import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trafficErrors } from '../errors.js';
import { upstreamErrorStatus } from './node-attempts.js';

test('an unreachable node gives 504 for a dial timeout, 503 when no connector is there, else 502', () => {
  assert.equal(upstreamErrorStatus(trafficErrors.noConnector('site-a')), 503);
  assert.equal(
    upstreamErrorStatus(trafficErrors.dialTimeout('10.0.0.5:80', 'no answer in 10 s')),
    504,
  );
  assert.equal(upstreamErrorStatus(trafficErrors.dialRefused('10.0.0.5:80', 'ECONNREFUSED')), 502);
  assert.equal(upstreamErrorStatus(new Error('anything else')), 502);
});
