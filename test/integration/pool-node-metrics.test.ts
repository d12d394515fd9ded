import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { eventually, freePort, startTestEdge } from '../harness/harness.js';

/** A Node HTTP node answering `status`, and holding `/slow` until `release()`. */
async function backend(status: number) {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') held.push(res);
    else res.writeHead(status, { 'content-type': 'text/plain' }).end(String(status));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    address,
    held,
    release: () => held.splice(0).forEach((res) => res.writeHead(200).end('slow')),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** One HTTP/1.1 request written on a raw TCP connection; the whole answer as text. */
function rawGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    let text = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

interface NodeView {
  address: string;
  requests: Record<string, number>;
  activeConnections: number;
  lastResponseMs?: number;
}

test('per-node metrics through a real edge: counts by node and outcome, in progress, removal', async () => {
  const ok = await backend(200);
  const missing = await backend(404);
  const edge = await startTestEdge();
  try {
    const pool = await edge.api('POST', '/pools', {
      name: 'web',
      nodes: [{ address: ok.address }, { address: missing.address }],
    });
    assert.equal(pool.status, 201, JSON.stringify(pool.body));
    const port = await edge.httpFront('web');
    const url = `http://127.0.0.1:${port}`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${url}/`);
      await res.text();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses.sort(), [200, 200, 404, 404], 'round robin over both nodes');

    const scrape = async () => (await fetch(`${edge.adminUrl}/metrics`)).text();
    const value = (text: string, series: string): number | undefined => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    const OK = `pool="web",node="${ok.address}"`;
    const MISSING = `pool="web",node="${missing.address}"`;
    let text = await scrape();
    assert.equal(value(text, `postern_edge_pool_node_requests_total{${OK},outcome="2xx"}`), 2);
    assert.equal(value(text, `postern_edge_pool_node_requests_total{${MISSING},outcome="4xx"}`), 2);
    assert.equal(
      value(text, `postern_edge_pool_node_requests_total{${OK},outcome="4xx"}`),
      undefined,
    );
    assert.equal(value(text, `postern_edge_pool_node_response_seconds_count{${OK}}`), 2);
    assert.equal(value(text, `postern_edge_pool_node_up{${OK}}`), 1);
    assert.equal(value(text, `postern_edge_pool_node_sessions_total{${OK}}`), 0);

    // The admin API's pool status shows the same figures.
    const status = await edge.api<{ status: { nodes: NodeView[] } }>('GET', '/pools/web');
    const byAddress = new Map(status.body.status.nodes.map((n) => [n.address, n]));
    assert.deepEqual(byAddress.get(ok.address)?.requests, { '2xx': 2 });
    assert.deepEqual(byAddress.get(missing.address)?.requests, { '4xx': 2 });
    assert.equal(typeof byAddress.get(ok.address)?.lastResponseMs, 'number');

    // A slow response counts as in progress on its node until it ends.
    const slow = fetch(`${url}/slow`).then(async (res) => res.text());
    const activeOf = (t: string) =>
      (value(t, `postern_edge_pool_node_active{${OK}}`) ?? 0) +
      (value(t, `postern_edge_pool_node_active{${MISSING}}`) ?? 0);
    await eventually(async () => activeOf(await scrape()) === 1, 'one request in progress');
    await eventually(() => ok.held.length + missing.held.length === 1, 'the node holds it');
    const slowOnOk = ok.held.length === 1;
    ok.release();
    missing.release();
    assert.equal(await slow, 'slow');
    await eventually(async () => activeOf(await scrape()) === 0, 'nothing in progress');

    // A tcp virtual server on the same pool counts sessions, not requests.
    const tcpPort = await freePort();
    const tcp = await edge.api('POST', '/virtual-servers', {
      name: 'web-tcp',
      protocol: 'tcp',
      listen: `127.0.0.1:${tcpPort}`,
      pool: 'web',
    });
    assert.equal(tcp.status, 201, JSON.stringify(tcp.body));
    const answer = await eventually(async () => {
      const res = await rawGet(tcpPort);
      return res.startsWith('HTTP/1.1') ? res : undefined;
    }, 'an answer through the tcp virtual server');
    assert.match(String(answer), /^HTTP\/1\.1 (200|404)/);
    const sessionsOf = (t: string) =>
      (value(t, `postern_edge_pool_node_sessions_total{${OK}}`) ?? 0) +
      (value(t, `postern_edge_pool_node_sessions_total{${MISSING}}`) ?? 0);
    await eventually(async () => sessionsOf(await scrape()) === 1, 'one tcp session counted');

    // A node removed from the pool by a configuration change leaves no series.
    const patched = await edge.api('PATCH', '/pools/web', { nodes: [{ address: ok.address }] });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    text = (await eventually(async () => {
      const t = await scrape();
      return t.includes(missing.address) ? undefined : t;
    }, 'the removed node gone from /metrics')) as string;
    assert.equal(
      value(text, `postern_edge_pool_node_requests_total{${OK},outcome="2xx"}`),
      slowOnOk ? 3 : 2,
    );
  } finally {
    await edge.stop();
    ok.close();
    missing.close();
  }
});
