// `via` pools: health checks and DNS discovery run on the group's connector, in its network,
// and come back to the edge over the control stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { DnsTestServer } from '../../src/traffic/discovery/dns-test-server.js';
import {
  eventually,
  freePort,
  startTestConnector,
  startTestEdge,
  type TestEdge,
} from '../harness/harness.js';

interface Backend {
  readonly address: string;
  readonly server: http.Server;
  /** Requests other than health checks. */
  readonly hits: () => number;
  /** Health check requests. */
  readonly checks: () => number;
  healthy: boolean;
}

/** An HTTP app that names itself; `/healthz` follows `healthy`, `/strict` passes only for "good". */
async function backend(name: string, host = '127.0.0.1', port = 0): Promise<Backend> {
  let hits = 0;
  let checks = 0;
  const state = { healthy: true };
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz' || req.url === '/strict') {
      checks += 1;
      const ok = req.url === '/healthz' ? state.healthy : name === 'good';
      res.statusCode = ok ? 200 : 503;
      res.end(ok ? 'ok' : 'sick');
      return;
    }
    hits += 1;
    res.end(name);
  });
  server.listen(port, host);
  await once(server, 'listening');
  return {
    address: `${host}:${(server.address() as AddressInfo).port}`,
    server,
    hits: () => hits,
    checks: () => checks,
    get healthy() {
      return state.healthy;
    },
    set healthy(v: boolean) {
      state.healthy = v;
    },
  };
}

async function get(url: string): Promise<string> {
  const res = await fetch(url, { headers: { connection: 'close' } });
  assert.equal(res.status, 200);
  return res.text();
}

interface NodeView {
  address: string;
  health: string;
  removed: boolean;
  source: string;
  monitors: { name: string; checks: number }[];
}
interface PoolView {
  status: {
    nodes: NodeView[];
    discovery?: {
      name: string;
      nodes?: number;
      lastError?: string;
      runsOn?: string;
      reportedBy?: string;
    };
  };
}

async function poolStatus(edge: TestEdge, name: string): Promise<PoolView['status']> {
  const res = await edge.api<PoolView>('GET', `/pools/${name}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.status;
}

async function healthOf(edge: TestEdge, pool: string, address: string): Promise<string> {
  return (await poolStatus(edge, pool)).nodes.find((n) => n.address === address)?.health ?? '';
}

const current = (nodes: NodeView[]) =>
  nodes
    .filter((n) => !n.removed)
    .map((n) => n.address)
    .sort();

async function httpVirtualServer(edge: TestEdge, name: string, pool: string): Promise<string> {
  const port = await freePort();
  const vs = await edge.api('POST', '/virtual-servers', {
    name,
    protocol: 'http',
    listen: `127.0.0.1:${port}`,
    pool,
  });
  assert.equal(vs.status, 201, JSON.stringify(vs.body));
  return `http://127.0.0.1:${port}/`;
}

test('a via pool is health-checked by its connector: a failing node goes down, sessions avoid it, it comes back up', async () => {
  const good = await backend('good');
  const bad = await backend('bad');
  bad.healthy = false;
  const edge = await startTestEdge();
  try {
    const key = await edge.createKey('site');
    const connector = await startTestConnector({ provisionKey: key.value });
    const monitor = {
      name: 'hc',
      type: 'http',
      path: '/healthz',
      delay_ms: 100,
      timeout_ms: 1000,
      failures: 2,
      successes: 2,
    };
    assert.equal((await edge.api('POST', '/monitors', monitor)).status, 201);
    const created = await edge.api('POST', '/pools', {
      name: 'web',
      via: 'site',
      monitors: ['hc'],
      nodes: [{ address: bad.address }, { address: good.address }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const url = await httpVirtualServer(edge, 'web', 'web');

    await eventually(
      async () => (await healthOf(edge, 'web', bad.address)) === 'down',
      'the failing node marked down',
    );
    assert.equal(await healthOf(edge, 'web', good.address), 'up');
    assert.equal(connector.tunnel?.healthChecks, 2, 'the connector runs one check per node');
    // Checks made by the edge would have gone through the tunnel as data sessions.
    assert.equal(connector.counters.total, 0, 'the edge itself opened no check sessions');
    assert.ok(bad.checks() >= 2 && good.checks() >= 2);

    for (let i = 0; i < 6; i++) assert.equal(await get(url), 'good');
    assert.equal(bad.hits(), 0);
    assert.ok(connector.counters.total > 0, 'the sessions went through the connector');

    bad.healthy = true;
    await eventually(
      async () => (await healthOf(edge, 'web', bad.address)) === 'up',
      'the recovered node back up',
    );
    const servedBy = new Set<string>();
    for (let i = 0; i < 4; i++) servedBy.add(await get(url));
    assert.deepEqual(servedBy, new Set(['good', 'bad']));

    // A changed monitor reaches the connector, which checks with the new one from then on.
    const changed = await edge.api('PUT', '/monitors/hc', { ...monitor, path: '/strict' });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    await eventually(
      async () => (await healthOf(edge, 'web', bad.address)) === 'down',
      'the node failing the changed monitor marked down',
    );
    assert.equal(await healthOf(edge, 'web', good.address), 'up');

    // The checks end with the tunnel (closed once the virtual server let go of its sessions).
    assert.equal((await edge.api('DELETE', '/virtual-servers/web')).status, 204);
    await connector.stop({ drainTimeoutMs: 100 });
    const after = good.checks() + bad.checks();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(good.checks() + bad.checks(), after, 'no checks once the tunnel is closed');
  } finally {
    await edge.stop();
    good.server.close();
    bad.server.close();
  }
});

test('a via pool discovers its nodes through DNS on the connector, which alone asks the DNS server', async () => {
  const dns = await DnsTestServer.start();
  const two = await backend('two', '127.0.0.2');
  const port = (two.server.address() as AddressInfo).port;
  const three = await backend('three', '127.0.0.3', port);
  const edge = await startTestEdge();
  try {
    dns.set('web.site.test', { A: [{ address: '127.0.0.2', ttl: 1 }] });
    const key = await edge.createKey('site');
    const connector = await startTestConnector({ provisionKey: key.value });
    const created = await edge.api('POST', '/pools', {
      name: 'disc',
      via: 'site',
      discovery: {
        dns: { name: 'web.site.test', port, min_interval_ms: 1000, resolver: dns.address },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const url = await httpVirtualServer(edge, 'disc', 'disc');

    const first = await eventually(async () => {
      const s = await poolStatus(edge, 'disc');
      return current(s.nodes).join() === `127.0.0.2:${port}` ? s : undefined;
    }, 'the discovered node in the pool');
    assert.ok(first);
    assert.equal(first.nodes[0]?.source, 'discovery');
    assert.equal(first.discovery?.runsOn, 'connector');
    assert.equal(first.discovery?.reportedBy, connector.identity?.connectorId);
    assert.equal(first.discovery?.nodes, 1);
    assert.equal(await get(url), 'two');

    dns.set('web.site.test', { A: [{ address: '127.0.0.3', ttl: 1 }] });
    await eventually(
      async () => current((await poolStatus(edge, 'disc')).nodes).join() === `127.0.0.3:${port}`,
      'the pool to follow the changed record',
    );
    assert.equal(await get(url), 'three');
    const policy = () => connector.tunnel!.policy;
    assert.equal(policy().allowsName({ host: '127.0.0.3', port }), true);
    await eventually(
      () => !policy().allowsName({ host: '127.0.0.2', port }),
      'the node gone from DNS no longer a destination of the connector',
    );
    assert.equal(policy().allowsName({ host: '127.0.0.4', port }), false);

    // A failing resolver keeps the last good set, and the status says why.
    dns.mode = 'servfail';
    const failed = await eventually(async () => {
      const s = await poolStatus(edge, 'disc');
      return /SERVFAIL/.test(s.discovery?.lastError ?? '') ? s : undefined;
    }, 'the resolver failure reported');
    assert.ok(failed);
    assert.deepEqual(current(failed.nodes), [`127.0.0.3:${port}`]);
    dns.mode = 'answer';

    // Only the connector resolves: without it the DNS server hears nothing more, although the
    // records' TTL (1 s) and min_interval (1 s) would have the edge ask at least twice.
    assert.equal((await edge.api('DELETE', '/virtual-servers/disc')).status, 204);
    await connector.stop({ drainTimeoutMs: 100 });
    const asked = dns.count('web.site.test', 'A');
    assert.ok(asked >= 3, `the connector asked ${asked} times`);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(dns.count('web.site.test', 'A'), asked, 'the edge never asks the DNS server');
    assert.deepEqual(current((await poolStatus(edge, 'disc')).nodes), [`127.0.0.3:${port}`]);
  } finally {
    await edge.stop();
    await dns.close();
    two.server.close();
    three.server.close();
  }
});
