import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ratioOf, statusOf } from '../suite.js';
import {
  haproxyScalingConfig,
  scalingRows,
  workerCounts,
  workerServerIds,
} from './worker-scaling.js';
import type { ScalingPhase } from './worker-scaling.js';

test('worker counts go from 1 to the cores, at least up to 2 and at most up to the cap', () => {
  assert.deepEqual(workerCounts(1), [1, 2]);
  assert.deepEqual(workerCounts(2), [1, 2]);
  assert.deepEqual(workerCounts(3), [1, 2, 3]);
  assert.deepEqual(workerCounts(16), [1, 2, 3, 4]);
  assert.deepEqual(workerCounts(16, 6), [1, 2, 3, 4, 5, 6]);
});

test('one worker keeps the server id; several are <id>-w<n>', () => {
  assert.deepEqual(workerServerIds('bench', 1), ['bench']);
  assert.deepEqual(workerServerIds('bench', 3), ['bench-w1', 'bench-w2', 'bench-w3']);
});

test('the HAProxy configuration has the thread count and both frontends', () => {
  const text = haproxyScalingConfig({
    threads: 3,
    tcpPort: 1001,
    tcpBackend: 1002,
    httpsPort: 1003,
    httpBackend: 1004,
    pem: '/tmp/x.pem',
  });
  assert.match(text, /^ {2}nbthread 3$/m);
  assert.match(text, /bind 127\.0\.0\.1:1001\n/);
  assert.match(text, /server s1 127\.0\.0\.1:1002\n/);
  assert.match(text, /bind 127\.0\.0\.1:1003 ssl crt \/tmp\/x\.pem\n/);
  assert.match(text, /server s1 127\.0\.0\.1:1004\n/);
});

function phase(workers: number, scale: number): ScalingPhase {
  return {
    workers,
    postern: {
      tcpDirect: 4 * scale,
      tcpTunnel: 2 * scale,
      httpsDirect: 10_000 * scale,
      httpsTunnel: 8_000 * scale,
    },
    haproxy: { tcp: 8 * workers, https: 20_000 * workers },
  };
}

test('rows compare each Postern path with HAProxy and, after the first phase, with one worker', () => {
  const rows = scalingRows([phase(1, 1), phase(2, 1.5)]);
  const find = (text: string) => {
    const row = rows.find((r) => r.case === text);
    assert.ok(row, `no row "${text}" in ${rows.map((r) => r.case).join(' | ')}`);
    return row;
  };
  const vsHaproxy = find('keep-alive GET req/s — Postern https, direct pool, workers=2');
  assert.equal(
    vsHaproxy.baseline?.case,
    'keep-alive GET req/s — HAProxy (https, mode http), nbthread 2',
  );
  assert.equal(ratioOf(vsHaproxy), 15_000 / 40_000);
  const scaling = find(
    'TCP, 8 iperf3 streams — Postern tcp, via pool (tunnel), workers=2 (vs workers=1)',
  );
  assert.equal(ratioOf(scaling), 1.5);
  assert.equal(statusOf(scaling), 'PASS');
  const peerScaling = find(
    'TCP, 8 iperf3 streams — HAProxy (mode tcp), nbthread 2 (vs nbthread 1)',
  );
  assert.equal(ratioOf(peerScaling), 2);
  // The first phase has no scaling row, and each phase shows each of the 4 paths and 2 peers.
  assert.equal(rows.filter((r) => r.case.endsWith('(vs workers=1)')).length, 4);
  assert.equal(
    rows.filter((r) => r.case.includes('workers=1') && !r.case.includes('(vs')).length,
    4,
  );
  const vsOneThread = find(
    'keep-alive GET req/s — Postern https, via pool (tunnel), workers=2 (vs HAProxy nbthread 1)',
  );
  assert.equal(ratioOf(vsOneThread), 12_000 / 20_000);
  assert.equal(rows.length, 2 * 2 + 1 * 2 + 4 * 2 + 4 + 2);
});

test('a scaling ratio under the target is BELOW; no phases give no rows', () => {
  const rows = scalingRows([phase(1, 1), phase(2, 1.1)]);
  const scaling = rows.filter((r) => r.target !== undefined);
  assert.equal(scaling.length, 4);
  assert.ok(scaling.every((r) => statusOf(r) === 'BELOW'));
  assert.deepEqual(scalingRows([]), []);
});
