// Priority lists (vTM's priority_enabled): a backup node (lower priority) gets no request while
// the primary is available, takes them once the primary's monitor marks it down, and loses
// them again when the primary comes back up. Real edge, admin API, real HTTP nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, startTestEdge } from '../harness/harness.js';

/**
 * A Node HTTP node answering its name, that can be stopped and started again on its port;
 * `seen` counts the test's requests (under /r), not the monitor's checks (of /).
 */
async function namedNode(name: string) {
  let seen = 0;
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/r') === true) seen++;
    res.end(name);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    seen: () => seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    start: () => listen(port),
  };
}

interface PriorityStatus {
  status: {
    priorityNodes?: number;
    nodes: { address: string; health: string; priority: number; inUse?: boolean }[];
  };
}

test('a backup node takes requests only while the primary is down, and loses them when it is back', async () => {
  const primary = await namedNode('primary');
  const backup = await namedNode('backup');
  const edge = await startTestEdge();
  try {
    const monitor = { name: 'hc', type: 'http', delay_ms: 100, timeout_ms: 1000 };
    const hc = await edge.api('POST', '/monitors', { ...monitor, failures: 1, successes: 1 });
    assert.equal(hc.status, 201, JSON.stringify(hc.body));
    const pool = await edge.api('POST', '/pools', {
      name: 'web',
      priority_enabled: true,
      monitors: ['hc'],
      // Only the monitor takes the primary out, so the test sees what it decides.
      passive_health: { enabled: false },
      nodes: [
        { address: primary.address, priority: 2 },
        { address: backup.address, priority: 1 },
      ],
    });
    assert.equal(pool.status, 201, JSON.stringify(pool.body));
    const port = await edge.httpFront('web');
    const status = async () => (await edge.api<PriorityStatus>('GET', '/pools/web')).body.status;
    const healthOf = async (address: string) =>
      (await status()).nodes.find((n) => n.address === address)?.health;
    const answers = async (count: number) => {
      const bodies = new Set<string>();
      for (let i = 0; i < count; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/r${i}`);
        assert.equal(res.status, 200);
        bodies.add(await res.text());
      }
      return [...bodies].sort();
    };

    await eventually(async () => (await healthOf(primary.address)) === 'up', 'the primary up');
    await eventually(async () => (await healthOf(backup.address)) === 'up', 'the backup up');
    assert.deepEqual(await answers(6), ['primary']);
    assert.equal(backup.seen(), 0, 'the backup got no request while the primary was up');
    const shown = await status();
    assert.equal(shown.priorityNodes, 1);
    assert.deepEqual(
      shown.nodes.map((n) => [n.priority, n.inUse]),
      [
        [2, true],
        [1, false],
      ],
    );

    await primary.stop();
    await eventually(async () => (await healthOf(primary.address)) === 'down', 'the primary down');
    assert.deepEqual(await answers(4), ['backup']);

    await primary.start();
    await eventually(async () => (await healthOf(primary.address)) === 'up', 'the primary back');
    const before = backup.seen();
    assert.deepEqual(await answers(6), ['primary']);
    assert.equal(backup.seen(), before, 'the backup got no request once the primary was back');
  } finally {
    await edge.stop();
    await primary.stop().catch(() => undefined);
    await backup.stop();
  }
});
