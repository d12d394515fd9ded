// Which edge holds which connector's tunnel, shared through one PostgreSQL: the admin API of
// any edge of an HA set lists every live edge holding a connector.
import assert from 'node:assert/strict';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openPostgresStore } from '../../src/store/index.js';
import {
  eventually,
  startTestConnector,
  startTestEdge,
  stopAllConnectors,
  tempDir,
  type TestEdge,
} from '../harness/harness.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';

interface ConnectorBody {
  status: string;
  remote_address?: string;
  edges_connected: { server_id: string; remote_address: string; since?: string }[];
}

describe('connector tunnels across an HA set over one PostgreSQL', () => {
  let pg: PostgresServer | undefined;
  let a: TestEdge | undefined;
  let b: TestEdge | undefined;
  let bDir: string | undefined;
  let bClosed = false;
  before(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    const openStore = () => openPostgresStore({ connectionString: url });
    a = await startTestEdge({ openStore, serverId: 'edgesconn-a' });
    // One HA set shares one enrollment CA: B starts from a copy of A's.
    bDir = await tempDir('postern-edgesconn-b-');
    for (const file of ['ca.crt', 'ca.key']) await copyFile(join(a.dir, file), join(bDir, file));
    b = await startTestEdge({ openStore, serverId: 'edgesconn-b', dataDir: bDir });
  });
  after(async () => {
    await stopAllConnectors();
    if (!bClosed) await b?.close();
    await a?.stop();
    await pg?.stop();
    if (bDir !== undefined) await rm(bDir, { recursive: true, force: true });
  });

  test('every edge lists both edges holding the connector; a closed edge leaves the list', async () => {
    assert.ok(a && b);
    const [edgeA, edgeB] = [a, b];
    const key = await edgeA.createKey('edgesconn-g');
    const connector = await startTestConnector({
      provisionKey: key.value,
      edgeAddresses: [
        `127.0.0.1:${edgeA.tunnelAddress.port}`,
        `127.0.0.1:${edgeB.tunnelAddress.port}`,
      ],
    });
    const id = connector.identity?.connectorId ?? '';
    assert.notEqual(id, '');
    await eventually(
      () => edgeA.registry.get(id) && edgeB.registry.get(id),
      'the connector to hold a tunnel to both edges',
      10_000,
    );

    const ids = (body: ConnectorBody) => body.edges_connected.map((e) => e.server_id);
    for (const edge of [edgeA, edgeB]) {
      const shown = await eventually(async () => {
        const res = await edge.api<ConnectorBody>('GET', `/connectors/${id}`);
        return ids(res.body).length === 2 ? res : undefined;
      }, `${edge.serverId} to list both edges`);
      assert.ok(shown);
      assert.equal(shown.status, 200);
      assert.equal(shown.body.status, 'connected');
      assert.deepEqual(ids(shown.body), ['edgesconn-a', 'edgesconn-b']);
      for (const entry of shown.body.edges_connected) {
        assert.match(entry.remote_address, /^127\.0\.0\.1:\d+$/);
        assert.ok(entry.since !== undefined && !Number.isNaN(Date.parse(entry.since)));
      }
    }
    const listed = await edgeA.api<{ items: (ConnectorBody & { id: string })[] }>(
      'GET',
      '/connectors',
    );
    const inList = listed.body.items.find((c) => c.id === id);
    assert.deepEqual(inList && ids(inList), ['edgesconn-a', 'edgesconn-b']);

    const started = Date.now();
    bClosed = true;
    await edgeB.close();
    await eventually(
      async () => {
        const res = await edgeA.api<ConnectorBody>('GET', `/connectors/${id}`);
        return ids(res.body).join() === 'edgesconn-a' && res.body.status === 'connected';
      },
      'edge A to list only itself',
      5000,
    );
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });
});
