import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import { trafficErrors } from './errors.js';
import { MAX_LISTED_NODE_FAILURES, NodeFailures } from './node-failures.js';
import { httpErrors } from './http/errors.js';

test('one failed node is reported with its own error, unchanged', () => {
  const failures = new NodeFailures();
  const err = trafficErrors.dialRefused('10.0.0.1:80', '');
  failures.add('10.0.0.1:80', err);
  assert.equal(failures.report('web', err), err);
  assert.deepEqual(failures.toRecord(), {
    nodes: [{ node: '10.0.0.1:80', error: 'POSTERN_ERR_DIAL_REFUSED' }],
    more: 0,
  });
});

test('several failed nodes make one error with the last code naming each node and its fate', () => {
  const failures = new NodeFailures();
  failures.add('10.0.0.1:80', trafficErrors.dialRefused('10.0.0.1:80', ''));
  failures.add('10.0.0.2:80', httpErrors.upstreamReset('10.0.0.2:80', 'ECONNRESET'));
  const last = trafficErrors.dialTimeout('10.0.0.3:80', '');
  failures.add('10.0.0.3:80', last);
  const err = failures.report('web', last);
  assert.ok(isPosternError(err, 'POSTERN_ERR_DIAL_TIMEOUT'));
  assert.equal(err.cause, last);
  assert.equal(
    err.message,
    'All 3 nodes tried for pool "web" failed: ' +
      '10.0.0.1:80 refused the connection (POSTERN_ERR_DIAL_REFUSED), ' +
      '10.0.0.2:80 closed the connection before responding (POSTERN_ERR_UPSTREAM_RESET), ' +
      '10.0.0.3:80 did not accept the connection in time (POSTERN_ERR_DIAL_TIMEOUT). ' +
      "Check that the application on each node is running and listening on its port, and the pool's monitor and node status (GET /api/v1/pools/web).",
  );
});

test('past the bound, nodes are counted as "and N more" rather than listed', () => {
  const failures = new NodeFailures();
  const total = MAX_LISTED_NODE_FAILURES + 3;
  let last: unknown;
  for (let i = 1; i <= total; i++) {
    last = trafficErrors.dialRefused(`10.0.0.${i}:80`, '');
    failures.add(`10.0.0.${i}:80`, last);
  }
  const record = failures.toRecord();
  assert.equal(record.nodes.length, MAX_LISTED_NODE_FAILURES);
  assert.equal(record.more, 3);
  assert.equal(failures.total, total);
  const message = (failures.report('web', last) as Error).message;
  assert.match(message, new RegExp(`^All ${total} nodes tried`));
  assert.match(
    message,
    /10\.0\.0\.8:80 refused the connection \(POSTERN_ERR_DIAL_REFUSED\), and 3 more\./,
  );
  assert.doesNotMatch(message, /10\.0\.0\.9:80/);
});

test("only codes reach the summary, never an underlying error's message", () => {
  const failures = new NodeFailures();
  failures.add('a:1', trafficErrors.dialFailed('a:1', ' (token=s3cr3t)'));
  failures.add('b:1', new Error('password=hunter2'));
  const last = trafficErrors.dialRefused('b:1', ' (token=s3cr3t)');
  const message = (failures.report('p', last) as Error).message;
  assert.doesNotMatch(message, /s3cr3t|hunter2/);
  assert.match(
    message,
    /a:1 failed \(POSTERN_ERR_DIAL_FAILED\), b:1 failed \(POSTERN_ERR_INTERNAL\)/,
  );
});
