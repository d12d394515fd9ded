import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { eventually, freePort, startTestEdge, tempDir } from '../harness/harness.js';

/** An http backend that names itself, with a /healthz its test can make fail. */
async function backend(name: string) {
  const state = { healthy: true, hits: 0 };
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      res.statusCode = state.healthy ? 200 : 500;
      res.end();
      return;
    }
    state.hits += 1;
    res.end(name);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server, state };
}

/** The body of GET `url` (which backend answered). */
async function servedBy(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return res.text();
}

/** Resolves true when something accepts a TCP connection on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A document: pool `web` (monitored, nodes `sick` and `good`), pool `api`, two servers. */
function doc(o: {
  sick: string;
  good: string;
  api: string;
  plainPool: string;
  plain: number;
  dead: number;
}) {
  return [
    'version: 1',
    'monitors:',
    '  - {name: hc, type: http, path: /healthz, delay_ms: 100, timeout_ms: 500, failures: 1, successes: 1}',
    'pools:',
    `  - {name: web, monitors: [hc], nodes: [{address: "${o.sick}"}, {address: "${o.good}"}]}`,
    `  - {name: api, nodes: [{address: "${o.api}"}]}`,
    'virtual_servers:',
    `  - {name: plain, protocol: http, listen: "127.0.0.1:${o.plain}", pool: ${o.plainPool}}`,
    `  - {name: deadvs, protocol: http, listen: "127.0.0.1:${o.dead}", pool: web}`,
    '',
  ].join('\n');
}

test('an apply that cannot bind a moved server changes nothing: old listeners, old pools and their monitors keep running', async () => {
  const sick = await backend('sick');
  const good = await backend('good');
  const api = await backend('api');
  sick.state.healthy = false;
  const blocker = net.createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const taken = (blocker.address() as AddressInfo).port;
  const [plain, dead, moved] = [await freePort(), await freePort(), await freePort()];
  const nodes = { sick: sick.address, good: good.address, api: api.address };
  const dir = await tempDir('postern-failed-apply-');
  await writeFile(join(dir, 'site.yaml'), doc({ ...nodes, plainPool: 'web', plain, dead }));
  const edge = await startTestEdge({ configDir: dir });
  try {
    const healthOf = async (address: string) => {
      const pool = await edge.api<{ status: { nodes: { address: string; health: string }[] } }>(
        'GET',
        '/pools/web',
      );
      return pool.body.status.nodes.find((n) => n.address === address)?.health;
    };
    await eventually(async () => (await healthOf(sick.address)) === 'down', 'sick down', 5000);

    await writeFile(
      join(dir, 'site.yaml'),
      doc({ ...nodes, plainPool: 'api', plain, dead: taken }),
    );
    type Problem = { file: string; line: number; path: string; message: string; code?: string };
    const status = await eventually(
      async () => {
        const s = await edge.api<{ ok: boolean; code: string | null; problems: Problem[] }>(
          'GET',
          '/import/status',
        );
        return s.body.ok ? undefined : s.body;
      },
      'the import status to report the failed apply',
      5000,
    );
    assert.ok(status);
    assert.equal(status.code, 'POSTERN_ERR_CONFIG_APPLY');
    // Located where the operator fixes it: deadvs's listen field (line 9 of the document).
    assert.deepEqual(
      status.problems.map((p) => [p.file, p.line, p.path, p.code]),
      [['site.yaml', 9, 'virtual_servers[1].listen', 'POSTERN_ERR_LISTEN_FAILED']],
    );
    assert.match(
      status.problems[0]?.message ?? '',
      new RegExp(
        `"deadvs" cannot listen on 127\\.0\\.0\\.1:${taken}: the address is already in use`,
      ),
    );
    for (let i = 0; i < 4; i++) {
      assert.equal(await servedBy(`http://127.0.0.1:${plain}/`), 'good', 'plain on pool web');
      assert.equal(await servedBy(`http://127.0.0.1:${dead}/`), 'good', 'deadvs on its old port');
    }
    assert.equal(api.state.hits, 0, 'pool api never served');
    assert.equal(sick.state.hits, 0, 'the down node stays out');
    assert.equal(await healthOf(sick.address), 'down', 'health carried on');
    // The old pool's monitor still runs: the node recovering is noticed.
    sick.state.healthy = true;
    await eventually(async () => (await healthOf(sick.address)) === 'up', 'sick back up', 5000);

    await writeFile(
      join(dir, 'site.yaml'),
      doc({ ...nodes, plainPool: 'api', plain, dead: moved }),
    );
    await eventually(
      async () => (await servedBy(`http://127.0.0.1:${plain}/`)) === 'api',
      'the valid generation applied',
      5000,
    );
    assert.ok((await servedBy(`http://127.0.0.1:${moved}/`)).length > 0, 'deadvs moved');
    assert.equal(await listening(dead), false, 'the old port released');
    const after = await edge.api<{ ok: boolean }>('GET', '/import/status');
    assert.equal(after.body.ok, true);
  } finally {
    await edge.stop();
    for (const s of [sick.server, good.server, api.server, blocker]) s.close();
  }
});

test('an edge whose documents name a listen address that is taken does not start, and says which file and line', async () => {
  const holder = net.createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const taken = (holder.address() as AddressInfo).port;
  const dir = await tempDir('taken-at-start');
  await writeFile(
    join(dir, 'site.yaml'),
    [
      'version: 1',
      'pools:',
      '  - {name: p, nodes: [{address: "127.0.0.1:9"}]}',
      'virtual_servers:',
      '  - name: web',
      '    protocol: http',
      `    listen: 127.0.0.1:${taken}`,
      '    pool: p',
      '',
    ].join('\n'),
  );
  try {
    await assert.rejects(startTestEdge({ configDir: dir }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'POSTERN_ERR_LISTEN_FAILED');
      assert.match(err.message, /^site\.yaml:7:13 virtual_servers\[0\]\.listen: /);
      assert.match(err.message, /already in use \(EADDRINUSE\)/);
      assert.match(err.message, /The edge did not start$/);
      return true;
    });
  } finally {
    holder.close();
  }
});
