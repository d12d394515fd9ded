// SRV weights end to end: a real edge (and for `via` pools a real connector, which resolves)
// asks the in-repo DNS server on 127.0.0.1, and requests through an HTTP virtual server reach
// real HTTP nodes in proportion to the weights published in DNS, also after they change.
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

/** An HTTP node on 127.0.0.1 that answers with its name. */
async function node(name: string): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_req, res) => res.end(name));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

interface PoolStatus {
  nodes: { address: string; weight: number; removed: boolean; source: string }[];
  discovery?: { runsOn?: string };
}

async function poolStatus(edge: TestEdge, name: string): Promise<PoolStatus> {
  const res = await edge.api<{ status: PoolStatus }>('GET', `/pools/${name}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.status;
}

/** Node weights by port, as the admin API shows them. */
async function weights(edge: TestEdge, pool: string): Promise<Record<string, number>> {
  const { nodes } = await poolStatus(edge, pool);
  return Object.fromEntries(
    nodes.filter((n) => !n.removed).map((n) => [n.address.split(':')[1]!, n.weight]),
  );
}

/** Sends `n` requests one after the other and counts the answers by node name. */
async function spread(url: string, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    const name = await res.text();
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** Publishes `_web._tcp.<zone>` with one target per node, each with its weight. */
function publish(dns: DnsTestServer, zone: string, targets: [string, number, number][]): void {
  dns.set(`_web._tcp.${zone}`, {
    SRV: targets.map(([target, port, weight]) => ({
      target: `${target}.${zone}`,
      port,
      weight,
      priority: 1,
      ttl: 1,
    })),
  });
  for (const [target] of targets) {
    dns.set(`${target}.${zone}`, { A: [{ address: '127.0.0.1', ttl: 1 }] });
  }
}

/** Creates the weighted SRV pool and an HTTP virtual server on it; returns the server's URL. */
async function weightedPool(
  edge: TestEdge,
  dns: DnsTestServer,
  pool: { name: string; zone: string; via?: string },
): Promise<string> {
  const created = await edge.api('POST', '/pools', {
    name: pool.name,
    ...(pool.via === undefined ? {} : { via: pool.via }),
    algorithm: 'weighted_round_robin',
    discovery: {
      dns: {
        name: `_web._tcp.${pool.zone}`,
        type: 'SRV',
        min_interval_ms: 1000,
        resolver: dns.address,
      },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const port = await freePort();
  const vs = await edge.api('POST', '/virtual-servers', {
    name: pool.name,
    protocol: 'http',
    listen: `127.0.0.1:${port}`,
    pool: pool.name,
  });
  assert.equal(vs.status, 201, JSON.stringify(vs.body));
  return `http://127.0.0.1:${port}/`;
}

/** Weights 2:1 give 40:20 of 60 requests; after DNS turns them to 1:2, 20:40. */
async function followsWeights(
  edge: TestEdge,
  dns: DnsTestServer,
  pool: { name: string; zone: string; via?: string },
): Promise<void> {
  const a = await node('a');
  const b = await node('b');
  try {
    publish(dns, pool.zone, [
      ['a', a.port, 2],
      ['b', b.port, 1],
    ]);
    const url = await weightedPool(edge, dns, pool);
    const published = { [a.port]: 2, [b.port]: 1 };
    await eventually(
      async () => JSON.stringify(await weights(edge, pool.name)) === JSON.stringify(published),
      'the published weights in the pool status',
    );
    // Smooth weighted round robin: exact shares over any multiple of the total weight (3).
    assert.deepEqual(await spread(url, 60), { a: 40, b: 20 });

    publish(dns, pool.zone, [
      ['a', a.port, 1],
      ['b', b.port, 2],
    ]);
    const changed = { [a.port]: 1, [b.port]: 2 };
    await eventually(
      async () => JSON.stringify(await weights(edge, pool.name)) === JSON.stringify(changed),
      'the changed weights in the pool status',
    );
    assert.deepEqual(await spread(url, 60), { a: 20, b: 40 });
  } finally {
    a.server.close();
    b.server.close();
  }
}

test('a direct pool spreads requests by the SRV weights in DNS and follows a change of weights', async () => {
  const dns = await DnsTestServer.start();
  const edge = await startTestEdge();
  try {
    await followsWeights(edge, dns, { name: 'direct', zone: 'direct.test' });
  } finally {
    await edge.stop();
    await dns.close();
  }
});

test('a via pool gets the SRV weights its connector resolved and follows a change of weights', async () => {
  const dns = await DnsTestServer.start();
  const edge = await startTestEdge();
  try {
    const key = await edge.createKey('site');
    const connector = await startTestConnector({ provisionKey: key.value });
    await followsWeights(edge, dns, { name: 'remote', zone: 'site.test', via: 'site' });
    assert.equal((await poolStatus(edge, 'remote')).discovery?.runsOn, 'connector');
    assert.ok(dns.count('_web._tcp.site.test', 'SRV') > 0, 'the connector asked');
    await connector.stop({ drainTimeoutMs: 100 });
  } finally {
    await edge.stop();
    await dns.close();
  }
});
