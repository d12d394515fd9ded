import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ratioOf, statusOf } from '../suite.js';
import { comparisonRows } from './comparison.js';

test('comparisonRows compares ssh -R with direct and Postern with ssh -R, judged by the target', () => {
  const [direct, ssh, postern] = comparisonRows(
    { direct: 40, ssh: 8, postern: 10 },
    { metric: 'iperf3, 1 stream', unit: 'Gbit/s', target: 1 },
  );
  assert.ok(direct && ssh && postern);
  assert.equal(direct.case, 'iperf3, 1 stream — direct loopback');
  assert.equal(ratioOf(direct), undefined);
  assert.equal(ratioOf(ssh), 0.2);
  assert.equal(ssh.target, undefined);
  assert.equal(ratioOf(postern), 1.25);
  assert.equal(postern.baseline?.case, 'iperf3, 1 stream — ssh -R');
  assert.equal(statusOf(postern), 'PASS');
  assert.deepEqual(postern.secondary, { value: 0.25, unit: '× direct' });
});

test('a Postern figure under target × ssh -R is BELOW; without a target there is no verdict', () => {
  const [, , below] = comparisonRows(
    { direct: 9000, ssh: 2000, postern: 3000 },
    { metric: 'conn', unit: 'conn/s', target: 2 },
  );
  assert.equal(statusOf(below ?? { case: '', value: 0, unit: '' }), 'BELOW');
  const [, , none] = comparisonRows(
    { direct: 20, ssh: 80, postern: 100 },
    { metric: 'p50', unit: 'µs' },
  );
  assert.equal(statusOf(none ?? { case: '', value: 0, unit: '' }), '');
  assert.equal(none?.secondary?.value, 5);
});

test('a zero direct figure leaves out the ratio to direct instead of dividing by zero', () => {
  const [, , postern] = comparisonRows(
    { direct: 0, ssh: 1, postern: 1 },
    { metric: 'm', unit: 'u' },
  );
  assert.equal(postern?.secondary, undefined);
});
