// A node that fails its health checks and recovers: once the monitor has it up again, the pool
// status no longer shows the failure as the monitor's current error (`lastError`), but keeps it
// with its time as the last failure (`lastFailure`, `lastFailureAt`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, startTestEdge } from '../harness/harness.js';

interface MonitorView {
  name: string;
  health: string;
  checks: number;
  lastError?: string;
  lastFailure?: string;
  lastFailureAt?: string;
}
interface PoolView {
  status: { nodes: { address: string; health: string; monitors: MonitorView[] }[] };
}

test('a node up again after failed checks shows no monitor lastError, and its last failure with the time', async () => {
  // A real HTTP node whose health check answers 503 until it is told to recover.
  let healthy = false;
  const node = createServer((req, res) => {
    res.statusCode = req.url === '/healthz' && !healthy ? 503 : 200;
    res.end('ok');
  });
  await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(node.address() as AddressInfo).port}`;
  const edge = await startTestEdge();
  try {
    const monitor = {
      name: 'hc',
      type: 'http',
      path: '/healthz',
      delay_ms: 100,
      timeout_ms: 1000,
      failures: 1,
      successes: 2,
    };
    assert.equal((await edge.api('POST', '/monitors', monitor)).status, 201);
    const pool = { name: 'web', monitors: ['hc'], nodes: [{ address }] };
    assert.equal((await edge.api('POST', '/pools', pool)).status, 201);
    const monitorOf = async (): Promise<MonitorView | undefined> =>
      (await edge.api<PoolView>('GET', '/pools/web')).body.status.nodes[0]?.monitors[0];

    const down = (await eventually(async () => {
      const m = await monitorOf();
      return m?.health === 'down' ? m : undefined;
    }, 'the failing node to be down')) as MonitorView;
    assert.match(down.lastError ?? '', /503/);
    assert.equal(down.lastFailure, down.lastError);
    const failedAt = Date.parse(down.lastFailureAt ?? '');
    assert.ok(Number.isFinite(failedAt), `lastFailureAt ${String(down.lastFailureAt)}`);

    healthy = true;
    const up = (await eventually(async () => {
      const m = await monitorOf();
      return m?.health === 'up' ? m : undefined;
    }, 'the recovered node to be up')) as MonitorView;
    assert.equal(up.lastError, undefined, 'no current error next to a node that is up');
    assert.match(up.lastFailure ?? '', /503/);
    assert.ok(Date.parse(up.lastFailureAt ?? '') >= failedAt, String(up.lastFailureAt));
    const node0 = (await edge.api<PoolView>('GET', '/pools/web')).body.status.nodes[0];
    assert.equal(node0?.health, 'up');
  } finally {
    await edge.stop();
    await new Promise((resolve) => node.close(resolve));
  }
});
