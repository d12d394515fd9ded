// Weighted least connections end to end: a real edge balances requests through an HTTP virtual
// server over two real HTTP nodes of weights 3 and 1 that hold every request open until the test
// lets them answer, so the requests in flight on each node follow the weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { eventually, startTestEdge } from '../harness/harness.js';

/** An HTTP node on 127.0.0.1 that holds each request until `release()`, then answers its name. */
async function holdingNode(name: string) {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => held.push(res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    held,
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    release: () => held.splice(0).forEach((res) => res.end(name)),
  };
}

/** A GET on its own connection; resolves with the body once the node answers. */
function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

test('weighted least connections spreads concurrent requests 3:1 over nodes of weights 3 and 1', async () => {
  const edge = await startTestEdge();
  const heavy = await holdingNode('heavy');
  const light = await holdingNode('light');
  try {
    const created = await edge.api('POST', '/pools', {
      name: 'wlc',
      algorithm: 'weighted_least_connections',
      nodes: [
        { address: heavy.address, weight: 3 },
        { address: light.address, weight: 1 },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const port = await edge.httpFront('wlc');
    const url = `http://127.0.0.1:${port}/`;

    // Each request is held by its node before the next starts, so every pick sees the last.
    const answers: Promise<string>[] = [];
    for (let i = 1; i <= 40; i++) {
      answers.push(get(url));
      await eventually(
        () => heavy.held.length + light.held.length === i,
        `request ${i} held by a node`,
      );
    }
    assert.deepEqual([heavy.held.length, light.held.length], [30, 10]);

    heavy.release();
    light.release();
    const bodies = await Promise.all(answers);
    assert.equal(bodies.filter((b) => b === 'heavy').length, 30);
    assert.equal(bodies.filter((b) => b === 'light').length, 10);
  } finally {
    heavy.release();
    light.release();
    heavy.server.close();
    light.server.close();
    await edge.stop();
  }
});
