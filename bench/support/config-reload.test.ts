import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { poolSchema, virtualServerSchema } from '../../src/config/index.js';
import { getBody, pollUntil, reloadDocuments, reloadPaths, replaceFile } from './config-reload.js';

const layout = { port: 7443, pools: { a: 8001, b: 8002 } };

test('reloadDocuments: the site names the given pool, and pools and server pass the schemas', () => {
  const docs = reloadDocuments(layout);
  const base = parse(docs.base) as {
    version: number;
    certificates: { name: string; cert: unknown; key: unknown }[];
    pools: unknown[];
  };
  assert.equal(base.version, 1);
  assert.deepEqual(base.certificates[0], {
    name: 'bench',
    cert: { valueFrom: { fileRef: { name: reloadPaths.cert } } },
    key: { valueFrom: { fileRef: { name: reloadPaths.key } } },
  });
  const pools = base.pools.map((p) => poolSchema.parse(p));
  assert.deepEqual(
    pools.map((p) => [p.name, p.via, p.nodes.map((n) => n.address)]),
    [
      ['a', undefined, ['127.0.0.1:8001']],
      ['b', undefined, ['127.0.0.1:8002']],
    ],
  );
  for (const pool of ['a', 'b']) {
    const site = parse(docs.site(pool)) as { virtual_servers: unknown[] };
    const vs = virtualServerSchema.parse(site.virtual_servers[0]);
    assert.equal(vs.pool, pool);
    assert.equal(vs.protocol, 'https');
    assert.equal(vs.listen, '127.0.0.1:7443');
    assert.deepEqual(vs.tls?.certificates, ['bench']);
  }
});

test('replaceFile swaps the content in one rename and leaves no temporary file behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'reload-test-'));
  try {
    await writeFile(join(dir, '10-site.yaml'), 'old');
    await replaceFile(dir, '10-site.yaml', 'new');
    assert.equal(await readFile(join(dir, '10-site.yaml'), 'utf8'), 'new');
    assert.deepEqual(await readdir(dir), ['10-site.yaml']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('pollUntil counts failures as "not yet" and resolves on the expected answer', async () => {
  const answers = [
    (): Promise<string> => Promise.reject(new Error('refused')),
    (): Promise<string> => Promise.resolve('old'),
  ];
  let calls = 0;
  const probe = (): Promise<string> => (answers[calls++] ?? (() => Promise.resolve('new')))();
  const since = performance.now();
  const ms = await pollUntil(probe, 'new', {
    since,
    timeoutMs: 2_000,
    signal: AbortSignal.timeout(5_000),
  });
  assert.equal(calls, 3);
  assert.ok(ms >= 0 && ms < 2_000, `${ms}`);
});

test('pollUntil gives up at the deadline naming the last answer', async () => {
  await assert.rejects(
    pollUntil(() => Promise.resolve('old'), 'new', {
      since: performance.now(),
      timeoutMs: 100,
      intervalMs: 10,
      signal: AbortSignal.timeout(5_000),
    }),
    /no "new" within 100 ms; last answer: "old"/,
  );
});

test('getBody returns the body of a GET on a fresh connection', async () => {
  const server = http.createServer((req, res) => res.end(`seen ${req.url}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    assert.equal(await getBody(`http://127.0.0.1:${port}/x`, ''), 'seen /x');
  } finally {
    server.close();
  }
});
