// Upstream keep-alive through the tunnel: an http virtual server with a `via` pool carries
// sequential requests on one tunnel stream (one app connection), which is what makes its
// per-request cost close to the direct pool's; and a reused connection that dies before
// answering is retried on a fresh one only for idempotent requests.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, startTestConnector, startTestEdge, tempDir } from '../harness/harness.js';

/** One GET or POST to the edge on a fresh client connection; resolves status, error header. */
function send(
  port: number,
  method = 'GET',
): Promise<{ status: number; error: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: '/', agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            error: res.headers['x-postern-error'] as string | undefined,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(method === 'POST' ? 'once' : undefined);
  });
}

/** Starts an edge whose http virtual server sends everything to `app` through group site-a. */
async function edgeFor(app: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = await tempDir('postern-perf-reuse-');
  await writeFile(
    join(dir, 'site.yaml'),
    [
      'version: 1',
      'connector_groups: [{ name: site-a }]',
      `pools: [{ name: app, via: site-a, nodes: [{ address: "${app}" }] }]`,
      'virtual_servers:',
      `  - { name: front, protocol: http, listen: "127.0.0.1:${port}", pool: app }`,
      '',
    ].join('\n'),
  );
  const edge = await startTestEdge({ configDir: dir });
  try {
    const key = await edge.createKey('site-a');
    const connector = await startTestConnector({ provisionKey: key.value });
    const stop = async (): Promise<void> => {
      await connector.stop();
      await edge.stop();
    };
    return { port, stop };
  } catch (err) {
    await edge.stop();
    throw err;
  }
}

async function listen(server: net.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

test('sequential requests through a via pool reuse one app connection', async () => {
  let connections = 0;
  const app = http.createServer((_req, res) => res.end('hello'));
  app.on('connection', () => connections++);
  const edge = await edgeFor(await listen(app));
  try {
    const n = 20;
    for (let i = 0; i < n; i++) {
      const r = await send(edge.port);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'hello');
    }
    // Each request came on its own client connection, yet the app saw only the first dial.
    assert.equal(connections, 1);
  } finally {
    await edge.stop();
    app.closeAllConnections();
    app.close();
  }
});

test('a reused tunnel connection that dies before answering is replaced for a GET, not a POST', async () => {
  // Each connection answers its first request and drops the second: the keep-alive race.
  let connections = 0;
  const flaky = net.createServer((s) => {
    connections++;
    let n = 0;
    s.on('data', () => {
      if (++n === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else s.destroy();
    });
  });
  const edge = await edgeFor(await listen(flaky));
  try {
    assert.equal((await send(edge.port)).status, 200);
    const retried = await send(edge.port);
    assert.equal(retried.status, 200);
    assert.equal(retried.body, 'ok');
    assert.equal(connections, 2, 'the GET went to the stale connection, then to a fresh one');
    const post = await send(edge.port, 'POST');
    assert.equal(post.status, 502);
    assert.equal(post.error, 'POSTERN_ERR_UPSTREAM_RESET');
    assert.equal(connections, 2, 'the POST was not sent a second time');
  } finally {
    await edge.stop();
    flaky.close();
  }
});
