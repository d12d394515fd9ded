import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, startTestEdge, tempDir, type TestEdge } from '../../../test/harness/harness.js';
import type { PoolStatusView } from '../../control/index.js';
import { poolNodeRow } from './pool-commands.js';
import { runAdminCli } from './test-admin-cli.js';

/** A Node HTTP node answering every request with `status`. */
async function backend(status: number): Promise<{ address: string; close: () => void }> {
  const server = http.createServer((_req, res) => res.writeHead(status).end(String(status)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

let edge: TestEdge;
let configDir: string;
let ok: Awaited<ReturnType<typeof backend>>;
let failing: Awaited<ReturnType<typeof backend>>;

before(async () => {
  ok = await backend(200);
  failing = await backend(503);
  configDir = await tempDir('poolscli-');
  const port = await freePort();
  await writeFile(
    join(configDir, '20-pools.yaml'),
    [
      'version: 1',
      'pools:',
      '  - name: web',
      '    algorithm: round_robin',
      '    nodes:',
      `      - address: ${ok.address}`,
      '        max_connections: 10',
      `      - address: ${failing.address}`,
      'virtual_servers:',
      '  - name: web',
      '    protocol: http',
      `    listen: 127.0.0.1:${String(port)}`,
      '    pool: web',
      '',
    ].join('\n'),
  );
  edge = await startTestEdge({ configDir });
  const spare = await edge.api('POST', '/pools', {
    name: 'spare',
    nodes: [{ address: '127.0.0.1:9' }],
  });
  assert.equal(spare.status, 201, JSON.stringify(spare.body));
  // Round robin over two nodes: three requests to each.
  for (let i = 0; i < 6; i++) {
    const res = await fetch(`http://127.0.0.1:${String(port)}/`);
    await res.text();
  }
});

after(async () => {
  await edge?.stop();
  ok?.close();
  failing?.close();
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

/** The whitespace-separated cells of the table line that starts with `first`. */
function row(stdout: string, first: string): string[] | undefined {
  return stdout
    .split('\n')
    .map((line) => line.split(/\s{2,}/))
    .find((cells) => cells[0] === first);
}

test('pools list shows each pool with via, algorithm, nodes and where it is defined', async () => {
  const run = await runAdminCli(edge, ['pools', 'list']);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+VIA\s+ALGORITHM\s+NODES\s+QUEUED\s+SOURCE$/);
  assert.deepEqual(row(run.stdout, 'web'), [
    'web',
    'direct',
    'round_robin',
    '2/2',
    '0',
    '20-pools.yaml',
  ]);
  const spare = row(run.stdout, 'spare');
  assert.equal(spare?.[3]?.endsWith('/1'), true, run.stdout);
  assert.equal(spare?.[5], 'api');
});

test('pools list --json prints the API answer', async () => {
  const run = await runAdminCli(edge, ['pools', 'list', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const pools = JSON.parse(run.stdout) as { name: string; status?: { nodes: unknown[] } }[];
  assert.deepEqual(pools.map((p) => p.name).sort(), ['spare', 'web']);
  assert.equal(pools.find((p) => p.name === 'web')?.status?.nodes.length, 2);
});

test('pools status shows the pool header and each node with its requests by outcome', async () => {
  const run = await runAdminCli(edge, ['pools', 'status', 'web']);
  assert.equal(run.code, 0, run.stderr);
  const [header, columns] = run.stdout.split('\n');
  assert.match(header ?? '', /^pool web {2}algorithm round_robin {2}via direct {2}/);
  assert.match(header ?? '', / {2}panic no \(mode all\) {2}queued 0 \(timeouts 0\)$/);
  assert.match(
    columns ?? '',
    /^ADDRESS\s+HEALTH\s+STATE\s+WEIGHT\s+ACTIVE\s+REQUESTS\s+FAILURES\s+RESPONSE$/,
  );
  const good = row(run.stdout, ok.address);
  assert.deepEqual(good?.slice(2, 7), ['active', '1', '0/10', '2xx 3', '0'], run.stdout);
  assert.match(good?.[7] ?? '', /^\d+\.\d ms$/);
  const bad = row(run.stdout, failing.address);
  // The 5xx answers count as the node's failures too.
  assert.deepEqual(bad?.slice(2, 7), ['active', '1', '0', '5xx 3', '3'], run.stdout);
});

test('pools status --json prints the API answer', async () => {
  const run = await runAdminCli(edge, ['pools', 'status', 'web', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const pool = JSON.parse(run.stdout) as {
    owner: string;
    status: { nodes: { address: string; requests: Record<string, number> }[] };
  };
  assert.equal(pool.owner, 'document:20-pools.yaml');
  const byAddress = new Map(pool.status.nodes.map((n) => [n.address, n.requests]));
  assert.deepEqual(byAddress.get(ok.address), { '2xx': 3 });
  assert.deepEqual(byAddress.get(failing.address), { '5xx': 3 });
});

test('pools status of an unknown pool fails with the API’s not-found message', async () => {
  const run = await runAdminCli(edge, ['pools', 'status', 'nosuch']);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, '');
  assert.match(
    run.stderr,
    /^postern: pool "nosuch" does not exist\. .* \(POSTERN_ERR_NOT_FOUND\)\n$/,
  );
});

/** A node's status as the API serves it, with `changes` over an idle, healthy node. */
function nodeView(changes: Partial<PoolStatusView['nodes'][number]>) {
  return {
    address: '10.0.0.1:80',
    state: 'active' as const,
    source: 'config' as const,
    removed: false,
    health: 'up' as const,
    monitors: [],
    activeConnections: 0,
    picks: 0,
    failures: 0,
    consecutiveFailures: 0,
    requests: {},
    sessions: 0,
    weight: 1,
    priority: 1,
    maxConnections: 0,
    ...changes,
  };
}

test('a node row shows slow start weight, sessions, ejection and removal', () => {
  const row = poolNodeRow(
    nodeView({
      weight: 2,
      slowStart: { weight: 1, endsAt: '2026-01-01T00:00:00.000Z' },
      sessions: 4,
      requests: { '2xx': 120, '5xx': 3 },
      activeConnections: 3,
      maxConnections: 10,
      ejectedUntil: '2026-01-01T00:00:00.000Z',
      removed: true,
      state: 'draining',
      avgResponseMs: 12.345,
    }),
  );
  assert.deepEqual(row, {
    address: '10.0.0.1:80',
    health: 'up (ejected)',
    state: 'draining (removed)',
    weight: '2 (slow start 1)',
    active: '3/10',
    requests: '2xx 120 5xx 3 4 sessions',
    failures: '0',
    response: '12.3 ms',
  });
  const idle = poolNodeRow(nodeView({ sessions: 2 }));
  assert.equal(idle.requests, '2 sessions');
  assert.equal(idle.weight, '1');
  assert.equal(idle.active, '0');
  assert.equal(poolNodeRow(nodeView({})).requests, '0');
  assert.equal('priority' in idle, false, 'no priority column without priority lists');
});

test('with priority lists a node row says whether its group is in use', () => {
  assert.equal(poolNodeRow(nodeView({ priority: 2, inUse: true })).priority, '2 (in use)');
  assert.equal(poolNodeRow(nodeView({ priority: 1, inUse: false })).priority, '1 (standby)');
});
