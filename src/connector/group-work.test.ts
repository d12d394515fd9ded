import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { pino } from 'pino';
import { makeMessage, type MonitorWork } from '../protocol/index.js';
import { GroupWork } from './group-work.js';
import type { HealthReport } from './remote-monitors.js';

const monitor = {
  name: 'tcp',
  type: 'tcp' as const,
  delay_ms: 50,
  timeout_ms: 500,
  failures: 1,
  successes: 1,
};

async function server(): Promise<{
  address: string;
  port: number;
  accepted: () => number;
  close(): void;
}> {
  let accepted = 0;
  const s = net.createServer((socket) => {
    accepted += 1;
    socket.destroy();
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as net.AddressInfo;
  return { address: `127.0.0.1:${port}`, port, accepted: () => accepted, close: () => s.close() };
}

function work(options: { targets: number[]; monitors: MonitorWork[] }) {
  return makeMessage({
    type: 'config',
    generation: 1,
    targets: options.targets.map((port) => ({
      host: '127.0.0.1',
      ports: [port, port] as [number, number],
    })),
    monitors: options.monitors,
    discovery: [],
  });
}

/** A GroupWork whose health reports a test can await one by one. */
function groupWork() {
  const reports: HealthReport[] = [];
  let wake: (() => void) | undefined;
  const group = new GroupWork({
    logger: pino({ level: 'silent' }),
    healthHeartbeatMs: 60_000,
    onHealth: (report) => {
      reports.push(report);
      wake?.();
    },
    onDiscovered: () => undefined,
  });
  return {
    group,
    reports,
    async next(count: number): Promise<HealthReport[]> {
      const deadline = Date.now() + 5000;
      while (reports.length < count) {
        assert.ok(Date.now() < deadline, `only ${reports.length} of ${count} reports came`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return reports.slice(0, count);
    },
  };
}

test('a check of a node outside the group targets is refused by the policy and reported failed', async () => {
  const app = await server();
  const w = groupWork();
  try {
    w.group.apply(work({ targets: [], monitors: [{ pool: 'p', address: app.address, monitor }] }));
    const [report] = await w.next(1);
    assert.equal(report?.pool, 'p');
    assert.equal(report?.result.ok, false);
    assert.match(report?.result.detail ?? '', /NOT_ALLOWED/);
    assert.equal(app.accepted(), 0, 'the connector never connected');
  } finally {
    w.group.stop();
    app.close();
  }
});

test('checks follow each config and end with stop', async () => {
  const a = await server();
  const b = await server();
  const w = groupWork();
  try {
    w.group.apply(
      work({ targets: [a.port, b.port], monitors: [{ pool: 'p', address: a.address, monitor }] }),
    );
    const [first] = await w.next(1);
    assert.deepEqual(
      { address: first?.address, monitor: first?.monitor, ok: first?.result.ok },
      { address: a.address, monitor: 'tcp', ok: true },
    );
    assert.equal(typeof first?.result.durationMs, 'number');
    assert.equal(w.group.checks, 1);

    w.group.apply(
      work({
        targets: [a.port, b.port],
        monitors: [
          { pool: 'p', address: a.address, monitor },
          { pool: 'p', address: b.address, monitor },
        ],
      }),
    );
    const reports = await w.next(3);
    assert.ok(reports.some((r) => r.address === b.address && r.result.ok));
    assert.equal(w.group.checks, 2);

    w.group.apply(
      work({ targets: [a.port], monitors: [{ pool: 'p', address: a.address, monitor }] }),
    );
    assert.equal(w.group.checks, 1);
    assert.equal(w.group.policy.allowsName({ host: '127.0.0.1', port: b.port }), false);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const bChecks = b.accepted();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(b.accepted(), bChecks, 'a node no longer in config is no longer checked');

    w.group.stop();
    assert.equal(w.group.checks, 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const aChecks = a.accepted();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(a.accepted(), aChecks, 'no checks after stop');
  } finally {
    w.group.stop();
    a.close();
    b.close();
  }
});
