// A virtual server created through the admin API whose address is taken when the edge starts
// (another program holds the port, a restore on another host) must not keep the whole edge
// down: the admin API is the only place to fix it, so the edge starts without that server,
// shows why, and tries it again on every configuration change.
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { freePort, startTestEdge, tempDir } from '../harness/harness.js';

interface ServerView {
  listen: string;
  status?: { listening: boolean; error?: { code: string; message: string }; since?: string };
}

/** Resolves true when something accepts a TCP connection on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function hold(port: number): Promise<net.Server> {
  const server = net.createServer((s) => s.destroy());
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

test('an API virtual server whose address is taken at start is parked: the edge starts, says why, and binds it once it can', async () => {
  const dataDir = await tempDir('unbindable');
  const port = await freePort();
  const first = await startTestEdge({ dataDir });
  await first.api('POST', '/pools', { name: 'p', nodes: [{ address: '127.0.0.1:9' }] });
  const created = await first.api('POST', '/virtual-servers', {
    name: 'web',
    protocol: 'tcp',
    listen: `127.0.0.1:${port}`,
    pool: 'p',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await first.stop();

  let holder: net.Server | undefined = await hold(port);
  const edge = await startTestEdge({ dataDir });
  try {
    const parked = await edge.api<ServerView>('GET', '/virtual-servers/web');
    assert.equal(parked.status, 200);
    assert.equal(parked.body.status?.listening, false);
    assert.equal(parked.body.status?.error?.code, 'POSTERN_ERR_LISTEN_FAILED');
    assert.match(parked.body.status?.error?.message ?? '', new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.ok(!Number.isNaN(Date.parse(parked.body.status?.since ?? '')), 'since is a time');
    const metric = /^postern_edge_virtual_server_listening\{virtual_server="web"\} (\d)$/m;
    const metrics = async () => (await fetch(`${edge.adminUrl}/metrics`)).text();
    assert.equal(metric.exec(await metrics())?.[1], '0');

    // Other changes go on while it is parked, and each one tries it again.
    const pool = await edge.api('POST', '/pools', {
      name: 'q',
      nodes: [{ address: '127.0.0.1:9' }],
    });
    assert.equal(pool.status, 201, JSON.stringify(pool.body));
    assert.equal(
      (await edge.api<ServerView>('GET', '/virtual-servers/web')).body.status?.listening,
      false,
    );

    // A change of the parked server itself must bind, or it is refused and nothing changes.
    const other = await hold(0);
    const taken = (other.address() as net.AddressInfo).port;
    const refused = await edge.api('PATCH', '/virtual-servers/web', {
      listen: `127.0.0.1:${taken}`,
    });
    other.close();
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(
      (await edge.api<ServerView>('GET', '/virtual-servers/web')).body.listen,
      `127.0.0.1:${port}`,
    );

    // Once the address is free, the next change binds it.
    holder.close();
    await once(holder, 'close');
    holder = undefined;
    const again = await edge.api('POST', '/pools', {
      name: 'r',
      nodes: [{ address: '127.0.0.1:9' }],
    });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    const bound = await edge.api<ServerView>('GET', '/virtual-servers/web');
    assert.deepEqual(bound.body.status, { listening: true });
    assert.equal(await accepts(port), true, 'the virtual server listens on its address');
    assert.equal(metric.exec(await metrics())?.[1], '1');

    // A disabled server is in force but listens nowhere, and says so.
    const off = await edge.api('PATCH', '/virtual-servers/web', { enabled: false });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.deepEqual((await edge.api<ServerView>('GET', '/virtual-servers/web')).body.status, {
      listening: false,
      disabled: true,
    });
    assert.equal(await accepts(port), false);
  } finally {
    holder?.close();
    await edge.stop();
  }
});

test('an API virtual server moved to a free address while parked listens there at once', async () => {
  const dataDir = await tempDir('unbindable-move');
  const port = await freePort();
  const first = await startTestEdge({ dataDir });
  await first.api('POST', '/pools', { name: 'p', nodes: [{ address: '127.0.0.1:9' }] });
  await first.api('POST', '/virtual-servers', {
    name: 'web',
    protocol: 'tcp',
    listen: `127.0.0.1:${port}`,
    pool: 'p',
  });
  await first.stop();
  const holder = await hold(port);
  const edge = await startTestEdge({ dataDir });
  try {
    const free = await freePort();
    const moved = await edge.api('PATCH', '/virtual-servers/web', { listen: `127.0.0.1:${free}` });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual((await edge.api<ServerView>('GET', '/virtual-servers/web')).body.status, {
      listening: true,
    });
    assert.equal(await accepts(free), true);
  } finally {
    holder.close();
    await edge.stop();
  }
});
