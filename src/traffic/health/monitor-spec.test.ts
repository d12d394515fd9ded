import assert from 'node:assert/strict';
import { test } from 'node:test';
import { monitorSpecFromConfig } from './monitor-spec.js';
import { parseStatusSpec } from './status-matcher.js';

test('a status spec accepts one status, a range, or a list of them', () => {
  const one = parseStatusSpec('204')!;
  assert.deepEqual([one(204), one(200)], [true, false]);
  const range = parseStatusSpec('200-399')!;
  assert.deepEqual([range(199), range(200), range(399), range(400)], [false, true, true, false]);
  const list = parseStatusSpec(['200', '301-302'])!;
  assert.deepEqual([list(200), list(301), list(302), list(303)], [true, true, true, false]);
  const commas = parseStatusSpec('200, 404')!;
  assert.deepEqual([commas(404), commas(201)], [true, false]);
});

test('a malformed status spec is refused', () => {
  for (const bad of ['', 'ok', '2xx', '399-200', '99', '200-700', ['200', 'x']]) {
    assert.equal(parseStatusSpec(bad), undefined, JSON.stringify(bad));
  }
});

test('a monitor gets the documented defaults', () => {
  const spec = monitorSpecFromConfig({ name: 'm', type: 'http' });
  assert.equal(spec.path, '/');
  assert.equal(spec.delayMs, 5_000);
  assert.equal(spec.timeoutMs, 2_000);
  assert.equal(spec.failures, 3);
  assert.equal(spec.successes, 2);
  // Unset: the pool's tls.verify decides, or no verification on a pool without tls (probeTls).
  assert.equal(spec.verifyTls, undefined);
  assert.equal(spec.expectStatus(399), true);
  assert.equal(spec.expectStatus(400), false);
});

test('a monitor with a bad status spec, regex, path or count is refused with a code', () => {
  const bad = [
    { expect_status: 'fine' },
    { body_match: '(' },
    { path: 'healthz' },
    { failures: 0 },
    { delay_ms: 1.5 },
  ];
  for (const extra of bad) {
    assert.throws(
      () => monitorSpecFromConfig({ name: 'm', type: 'http', ...extra }),
      (err: { code?: string; message?: string }) =>
        err.code === 'POSTERN_ERR_MONITOR_INVALID' && /monitor "m"/i.test(err.message ?? ''),
    );
  }
});
