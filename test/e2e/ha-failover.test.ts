/**
 * HA fault tolerance with real processes: HAProxy (TCP) in front of three edges on one
 * PostgreSQL, two connectors behind the same HAProxy address. See support/ha-lab.ts.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startEchoServer } from '../harness/harness.js';
import { HaLab, processUsage, type EdgeSlot } from './support/ha-lab.js';
import type { SpawnedProcess } from './support/spawned-process.js';

/** The client retry docs/errors.md promises to be enough ("High availability"). */
const CLIENT_RETRIES = 3;
const RETRY_DELAY_MS = 100;

let lab: HaLab;
let app: Awaited<ReturnType<typeof startEchoServer>>;
const connectors: SpawnedProcess[] = [];
let key = '';

/** One TCP session: send, half-close, expect the echo; rejects on anything else. */
function session(host: string, port: number, payload: Buffer, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('session timed out')), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      clearTimeout(timer);
      socket.end();
      const got = Buffer.concat(chunks);
      if (got.equals(payload)) resolve();
      else reject(new Error(`echo mismatch: ${got.length} of ${payload.length} bytes`));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.end(payload);
  });
}

/** A session through HAProxy's app frontend, retried as a client should. */
async function clientSession(payload = Buffer.from('hello ha')): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      await session('127.0.0.1', lab.ports.app, payload);
      return attempt;
    } catch (err) {
      if (attempt >= CLIENT_RETRIES) throw err;
      await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
    }
  }
}

/** Milliseconds from `since` until a session through HAProxy succeeds without retry. */
async function firstSuccessAfter(since: number, limitMs: number): Promise<number> {
  while (Date.now() - since < limitMs) {
    try {
      await session('127.0.0.1', lab.ports.app, Buffer.from('probe'), 1000);
      return Date.now() - since;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`no session succeeded within ${limitMs} ms`);
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every running edge holds a tunnel from each of `count` connectors. */
async function allAttached(count: number, timeoutMs = 15_000, edges = lab.edges): Promise<void> {
  await eventually(
    async () => (await Promise.all(edges.map((e) => lab.tunnelCount(e)))).every((n) => n === count),
    `every edge holding ${count} connector tunnels`,
    timeoutMs,
  );
}

async function sessionsSucceed(count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    assert.equal(await clientSession(), 0, `session ${i} needed a retry`);
}

describe('HA failover with real processes', { timeout: 170_000 }, () => {
  before(async () => {
    lab = await HaLab.create(3);
    app = await startEchoServer();
    const [first, ...rest] = lab.edges;
    // The first edge creates the CA in the shared data directory; the others load it.
    await lab.startEdge(first!);
    await Promise.all(rest.map((e) => lab.startEdge(e)));
    const admin = lab.edges[0]!;
    assert.equal((await lab.api(admin, 'POST', '/connector-groups', { name: 'site' })).status, 201);
    const created = await lab.api<{ value: string }>(admin, 'POST', '/provisioning-keys', {
      group: 'site',
    });
    key = created.body.value;
    await lab.api(admin, 'POST', '/pools', {
      name: 'echo',
      via: 'site',
      nodes: [{ address: app.address }],
    });
    const vs = await lab.api(admin, 'POST', '/virtual-servers', {
      name: 'echo',
      protocol: 'tcp',
      listen: `0.0.0.0:${lab.ports.vs}`,
      pool: 'echo',
    });
    assert.equal(vs.status, 201, JSON.stringify(vs.body));
    connectors.push(await lab.startConnector('connector-1', key));
    connectors.push(await lab.startConnector('connector-2', key));
  });

  after(async () => {
    await app?.close();
    await lab?.destroy();
  });

  test('one address behind HAProxy: each connector holds a tunnel to every edge', async () => {
    await allAttached(2);
    await sessionsSucceed(6);
  });

  test('a configuration change made through one edge is served by every edge within 1 s', async () => {
    const started = Date.now();
    const res = await lab.api(lab.edges[0]!, 'POST', '/virtual-servers', {
      name: 'echo-2',
      protocol: 'tcp',
      listen: `0.0.0.0:${lab.ports.vs + 1}`,
      pool: 'echo',
    });
    assert.equal(res.status, 201);
    await Promise.all(
      lab.edges
        .slice(1)
        .map((e) =>
          eventually(
            () => session(e.edgeIp, lab.ports.vs + 1, Buffer.from('new')).then(() => true),
            `${e.serverId} serving echo-2`,
            1000 - (Date.now() - started),
          ),
        ),
    );
    assert.ok(Date.now() - started <= 1000);
  });

  test('10,000 sessions leak no streams, file descriptors or memory', async () => {
    const edge = lab.edges[0]!;
    const pids = [edge.process!.child.pid!, ...connectors.map((c) => c.child.pid!)];
    await sessionsSucceed(50); // warm up: JIT, pools, buffers
    const before = await Promise.all(pids.map(processUsage));
    const payload = Buffer.alloc(512, 7);
    let next = 0;
    const worker = async () => {
      while (next < 10_000) {
        next++;
        await session(edge.edgeIp, lab.ports.vs, payload);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await eventually(
      async () => (await lab.metric(edge, 'postern_edge_open_streams')) === 0,
      'no open streams on the edge',
      5000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const afterUsage = await Promise.all(pids.map(processUsage));
    afterUsage.forEach((usage, i) => {
      const was = before[i]!;
      assert.ok(usage.fds <= was.fds + 5, `fds ${was.fds} → ${usage.fds} (process ${i})`);
      assert.ok(
        usage.rssKiB <= was.rssKiB + 64 * 1024,
        `RSS ${was.rssKiB} → ${usage.rssKiB} KiB (process ${i})`,
      );
    });
  });

  test('kill -9 of an edge mid-transfer: new sessions succeed within 1 s, connectors stay on the others', async () => {
    const victim = lab.edges[1]!;
    const survivors = lab.edges.filter((e) => e !== victim);
    // A transfer in flight through the victim (directly to its virtual server).
    const transfer = session(
      victim.edgeIp,
      lab.ports.vs,
      Buffer.alloc(64 * 1024 * 1024, 1),
      20_000,
    );
    await new Promise((r) => setTimeout(r, 100));
    const killedAt = Date.now();
    victim.process!.child.kill('SIGKILL');
    try {
      await assert.rejects(transfer, 'the transfer through the killed edge breaks');
      assert.ok((await firstSuccessAfter(killedAt, 1000)) <= 1000);
      await sessionsSucceed(10);
      await allAttached(2, 5000, survivors);
    } finally {
      // Back for the next tests (also after a failure here, so that one failure stays one):
      // the restarted edge takes its id again and connectors find it.
      await victim.process!.exited;
      await lab.startEdge(victim);
      await allAttached(2);
    }
  });

  test('restarting every edge one by one under load fails no session beyond the client retry', async () => {
    let stop = false;
    const stats = { ok: 0, retried: 0, failed: [] as string[] };
    const load = async () => {
      while (!stop) {
        try {
          stats.retried += (await clientSession()) > 0 ? 1 : 0;
          stats.ok++;
        } catch (err) {
          stats.failed.push((err as Error).message);
        }
      }
    };
    const workers = Array.from({ length: 4 }, load);
    for (const edge of lab.edges) {
      assert.ok(await edge.process!.stop('SIGTERM', 10_000), `${edge.serverId} stopped in time`);
      await lab.startEdge(edge);
      await allAttached(2);
    }
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(
      stats.failed.slice(0, 5),
      [],
      `${stats.failed.length} of ${stats.ok} sessions failed, ${stats.retried} retried`,
    );
    assert.ok(stats.ok > 50, `load kept going: ${stats.ok} sessions`);
  });

  test('kill -9 of one of two connectors: new sessions go to the other within 1 s', async () => {
    const victim = connectors[0]!;
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    try {
      assert.ok((await firstSuccessAfter(killedAt, 1000)) <= 1000);
      await sessionsSucceed(20);
      await allAttached(1, 3000);
    } finally {
      await victim.exited;
      connectors[0] = await lab.startConnector('connector-1');
      await allAttached(2);
    }
  });

  test('--workers 2: one edge process is two HA members behind one port, both used', async () => {
    const edge = lab.edges[0]!;
    assert.ok(await edge.process!.stop('SIGTERM', 10_000));
    const since = Date.now();
    await lab.startEdge(edge, 2);
    await eventually(
      async () => (await lab.leases()).join() === 'edge-1-w1,edge-1-w2,edge-2,edge-3',
      'both workers holding a lease',
      10_000,
    );
    // Each connector dials through HAProxy until it holds both workers as well.
    await Promise.all(
      connectors.flatMap((c) =>
        ['edge-1-w1', 'edge-1-w2'].map((id) =>
          c.waitForLog('tunnel up', {
            timeoutMs: 15_000,
            where: (l) => l.edge === id && Number(l.time) >= since,
          }),
        ),
      ),
    );
    for (let i = 0; i < 10; i++) await session(edge.edgeIp, lab.ports.vs, Buffer.from(`w${i}`));
    // Stopping the process stops both workers gracefully: their leases go at once.
    const stoppedAt = Date.now();
    assert.ok(await edge.process!.stop('SIGTERM', 15_000));
    assert.deepEqual(await lab.leases(), ['edge-2', 'edge-3']);
    assert.ok(Date.now() - stoppedAt < 3000, 'released, not expired');
    await lab.startEdge(edge);
    await allAttached(2);
  });

  test('a cut link is detected within the keepalive timeout and sessions move', async () => {
    const victim: EdgeSlot = lab.edges[2]!;
    const cutAt = Date.now();
    await lab.cutLink(victim);
    // Keepalive timeout 2 s (connector and edge): both connectors drop the silent tunnel.
    await Promise.all(
      connectors.map((c) =>
        c.waitForLog('edge tunnel left the set', {
          timeoutMs: 4000,
          where: (l) => l.edge === victim.serverId && Number(l.time) >= cutAt,
        }),
      ),
    );
    assert.ok(Date.now() - cutAt < 2000 + 1500, `detected after ${Date.now() - cutAt} ms`);
    await sessionsSucceed(10);
  });
});
