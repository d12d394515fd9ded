import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWrkReport, wrkReportScript } from './wrk.js';

/** What wrk prints with the report script: its own table, then the script's line. */
function output(fields: { requests: number; durationUs: number; errors?: Record<string, number> }) {
  const errors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0, ...fields.errors };
  const line = JSON.stringify({
    requests: fields.requests,
    duration_us: fields.durationUs,
    bytes: fields.requests * 150,
    errors,
    latency_us: { p50: 1200, p90: 2500, p99: 9100, max: 30000, mean: 1400.5 },
    cpu_s: 1.25,
  });
  return [
    'Running 5s test @ https://127.0.0.1:4443/',
    '  1 threads and 64 connections',
    `${fields.requests} requests in 5.00s, 1.00MB read`,
    `WRK_REPORT ${line}`,
    '',
  ].join('\n');
}

test('parseWrkReport computes requests/s over the measured duration and keeps the latency in µs', () => {
  const r = parseWrkReport(output({ requests: 100_000, durationUs: 5_000_000 }));
  assert.equal(r.requests, 100_000);
  assert.equal(r.seconds, 5);
  assert.equal(r.perSecond, 20_000);
  assert.deepEqual(r.latency, { p50: 1200, p90: 2500, p99: 9100, max: 30000, mean: 1400.5 });
  assert.equal(r.cpu, 0.25);
  assert.equal(r.errors, 0);
  assert.equal(r.errorKinds, '');
});

test('parseWrkReport adds up socket errors and bad statuses and names the kinds seen', () => {
  const r = parseWrkReport(
    output({ requests: 10, durationUs: 1_000_000, errors: { read: 2, status: 5 } }),
  );
  assert.equal(r.errors, 7);
  assert.equal(r.errorKinds, 'read 2, status 5');
});

test('parseWrkReport fails clearly when the report line is missing or the run took no time', () => {
  assert.throws(() => parseWrkReport('unable to connect to 127.0.0.1:1 Connection refused'), {
    message: /wrk printed no report: unable to connect/,
  });
  assert.throws(() => parseWrkReport(output({ requests: 0, durationUs: 0 })), /run of 0 µs/);
});

test('the report script prints the marker parseWrkReport looks for, with every field it reads', () => {
  assert.match(wrkReportScript, /^done = function\(summary, latency, requests\)/);
  for (const field of [
    'WRK_REPORT ',
    '"requests"',
    '"duration_us"',
    '"errors"',
    '"latency_us"',
    '"cpu_s"',
  ])
    assert.ok(wrkReportScript.includes(field), field);
  // One format placeholder per value passed to string.format.
  const placeholders = wrkReportScript.match(/%[df]|%\.\d+f/g) ?? [];
  const args = /\n\s+summary\.requests[\s\S]*?os\.clock\(\)\)/.exec(wrkReportScript)?.[0] ?? '';
  assert.equal(placeholders.length, args.split(',').length);
});
