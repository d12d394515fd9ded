import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { poolStatusViewSchema } from '../../src/control/index.js';
import { eventually, freePort, startTestEdge } from '../harness/harness.js';

interface NodeView {
  address: string;
  lastErrorAt?: unknown;
  ejectedUntil?: unknown;
  monitors: { name: string; lastCheckAt?: unknown }[];
}
interface PoolView {
  name: string;
  status: { nodes: NodeView[] };
}

/** An address on 127.0.0.1 where nothing listens. */
async function deadAddress(): Promise<string> {
  const port = await freePort();
  return `127.0.0.1:${port}`;
}

/** Opens a TCP connection through the virtual server and waits until the edge closes it. */
function refusedSession(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the session was not closed within 5 s'));
    }, 5000);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const ms = (value: unknown): number => {
  assert.equal(
    typeof value,
    'string',
    `a time is an ISO 8601 string, got ${JSON.stringify(value)}`,
  );
  assert.equal(new Date(value as string).toISOString(), value, 'round-trips as ISO 8601 (UTC)');
  return Date.parse(value as string);
};

test('pool status times in the admin API are ISO 8601 strings, like import status', async () => {
  const edge = await startTestEdge();
  try {
    const dead = await deadAddress();
    const port = await freePort();
    const before = Date.now();
    const monitor = await edge.api('POST', '/monitors', {
      name: 'tc',
      type: 'tcp',
      delay_ms: 100,
      timeout_ms: 500,
      failures: 1,
      successes: 1,
    });
    assert.equal(monitor.status, 201, JSON.stringify(monitor.body));
    const pool = await edge.api('POST', '/pools', {
      name: 'times',
      monitors: ['tc'],
      nodes: [{ address: dead }],
      passive_health: { failures: 1 },
    });
    assert.equal(pool.status, 201, JSON.stringify(pool.body));
    const vs = await edge.api('POST', '/virtual-servers', {
      name: 'times',
      protocol: 'tcp',
      listen: `127.0.0.1:${port}`,
      pool: 'times',
      retries: 0,
    });
    assert.equal(vs.status, 201, JSON.stringify(vs.body));
    // A refused session is a passive failure: it sets lastErrorAt and, at 1 failure, ejects.
    await refusedSession(port);
    const node = (await eventually(async () => {
      const res = await edge.api<PoolView>('GET', '/pools/times');
      const n = res.body.status.nodes[0];
      const ready = n?.lastErrorAt !== undefined && n.monitors[0]?.lastCheckAt !== undefined;
      return ready ? n : undefined;
    }, 'a passive failure and a monitor check in the pool status')) as NodeView;
    const after = Date.now();
    const lastErrorAt = ms(node.lastErrorAt);
    const lastCheckAt = ms(node.monitors[0]?.lastCheckAt);
    const ejectedUntil = ms(node.ejectedUntil);
    for (const t of [lastErrorAt, lastCheckAt]) assert.ok(t >= before && t <= after, String(t));
    // eject_ms defaults to 30 s from the failure (monotonic time mapped onto the wall clock).
    assert.ok(
      Math.abs(ejectedUntil - lastErrorAt - 30_000) < 1000,
      `${ejectedUntil - lastErrorAt}`,
    );
    // The list answers in the same format, and both match the schema the OpenAPI document publishes.
    const list = await edge.api<{ items: PoolView[] }>('GET', '/pools');
    const listed = list.body.items.find((p) => p.name === 'times');
    assert.equal(typeof listed?.status.nodes[0]?.lastErrorAt, 'string');
    poolStatusViewSchema.parse((await edge.api<PoolView>('GET', '/pools/times')).body.status);
    const doc = (await (await fetch(`${edge.adminUrl}/api/v1/openapi.json`)).json()) as {
      components: { schemas: Record<string, unknown> };
    };
    const published = JSON.stringify(doc.components.schemas.PoolStatus);
    assert.match(published, /"lastErrorAt":\{[^}]*"format":"date-time"/);
  } finally {
    await edge.stop();
  }
});
