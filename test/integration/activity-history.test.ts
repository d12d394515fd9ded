// The user activity log every edge of an HA set shares through one PostgreSQL: any edge's
// GET /api/v1/activity lists every edge's records, and records survive an edge's restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import postgres from 'pg';
import type { ActivityInput } from '../../src/control/index.js';
import { openPostgresStore } from '../../src/store/index.js';
import { eventually, startTestEdge, type TestEdge } from '../harness/harness.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';

interface Item {
  session_id: string;
  kind: string;
  edge?: string;
  user?: string;
  bytes_to_client?: number;
}
interface Page {
  items: Item[];
  next_page_token?: string;
}

const entry = (sessionId: string, extra: Partial<ActivityInput> = {}): ActivityInput => ({
  kind: 'decision',
  sessionId,
  user: 'alice@example.com',
  groups: ['eng'],
  clientType: 'tcp_client',
  source: '127.0.0.1:40000',
  destination: 'db.internal:5432',
  action: 'allow',
  reason: 'rule eng-db allows group eng',
  ...extra,
});

describe('user activity shared by the edges of one PostgreSQL store', () => {
  let pg: PostgresServer | undefined;
  let openStore: () => ReturnType<typeof openPostgresStore>;
  let url: string;
  let a: TestEdge;
  let b: TestEdge;
  before(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    openStore = () => openPostgresStore({ connectionString: url });
    a = await startTestEdge({ openStore, serverId: 'hact-a' });
    b = await startTestEdge({ openStore, serverId: 'hact-b' });
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
    await pg?.stop();
  });

  test('entries recorded on edge A are listed by GET /api/v1/activity on edge B with A as their edge, and page tokens work on any edge', async () => {
    a.activity.record(entry('hact-1'));
    a.activity.record(
      entry('hact-1', { kind: 'session_end', bytesToClient: 5_000_000_000, closeReason: 'closed' }),
    );
    const started = Date.now();
    const listed = await eventually(async () => {
      const res = await b.api<Page>('GET', '/activity?limit=1000');
      assert.equal(res.status, 200);
      const mine = res.body.items.filter((i) => i.session_id === 'hact-1');
      return mine.length === 2 ? mine : undefined;
    }, "edge A's entries on edge B");
    assert.ok(listed);
    // Written behind the access path in batches every 250 ms: well within a second.
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.deepEqual(
      listed.map((i) => [i.kind, i.edge, i.user]),
      [
        ['session_end', 'hact-a', 'alice@example.com'],
        ['decision', 'hact-a', 'alice@example.com'],
      ],
    );
    assert.equal(listed[0]?.bytes_to_client, 5_000_000_000);

    b.activity.record(entry('hact-2'));
    // B's own entry is listed at once: a read writes the edge's waiting entries first.
    const first = await b.api<Page>('GET', '/activity?limit=1');
    assert.deepEqual(
      first.body.items.map((i) => [i.session_id, i.edge]),
      [['hact-2', 'hact-b']],
    );
    assert.ok(first.body.next_page_token);
    const rest = await a.api<Page>(
      'GET',
      `/activity?limit=2&page_token=${first.body.next_page_token}`,
    );
    assert.equal(rest.status, 200);
    assert.deepEqual(
      rest.body.items.map((i) => [i.session_id, i.kind, i.edge]),
      [
        ['hact-1', 'session_end', 'hact-a'],
        ['hact-1', 'decision', 'hact-a'],
      ],
    );
  });

  test('entries recorded just before an edge stops are written at shutdown and listed after its restart', async () => {
    const c = await startTestEdge({ openStore, serverId: 'hact-c' });
    for (let n = 1; n <= 3; n++) c.activity.record(entry(`hact-c-${n}`));
    await c.stop();
    const onB = await b.api<Page>('GET', '/activity?limit=1000');
    assert.deepEqual(
      onB.body.items.filter((i) => i.edge === 'hact-c').map((i) => i.session_id),
      ['hact-c-3', 'hact-c-2', 'hact-c-1'],
    );
    const again = await startTestEdge({ openStore, serverId: 'hact-c' });
    try {
      const res = await again.api<Page>('GET', '/activity?limit=1000');
      const ids = res.body.items.map((i) => i.session_id);
      for (const id of ['hact-c-1', 'hact-c-2', 'hact-c-3', 'hact-1', 'hact-2']) {
        assert.ok(ids.includes(id), `${id} in ${ids.join(',')}`);
      }
    } finally {
      await again.stop();
    }
  });

  test("while the store's activity table cannot be read an edge answers 200 with its own records marked partial, and whole again with what it recorded meanwhile once it can", async () => {
    interface Answer extends Page {
      partial?: boolean;
      warning?: string;
    }
    a.activity.record(entry('hact-down-1'));
    await a.api('GET', '/activity?limit=1');
    const admin = new postgres.Client({ connectionString: url });
    await admin.connect();
    await admin.query('ALTER TABLE user_activity RENAME TO user_activity_away');
    try {
      a.activity.record(entry('hact-down-2'));
      const down = await a.api<Answer>('GET', '/activity?limit=2');
      assert.equal(down.status, 200);
      assert.equal(down.body.partial, true);
      assert.match(
        down.body.warning ?? '',
        /^the shared store could not be read \(relation "user_activity" does not exist\); showing only this edge's [0-9]+ most recent records from memory$/,
      );
      assert.deepEqual(
        down.body.items.map((i) => [i.session_id, i.edge]),
        [
          ['hact-down-2', 'hact-a'],
          ['hact-down-1', 'hact-a'],
        ],
      );
      assert.match(down.body.next_page_token ?? '', /^local-/);
      const metrics = await a.metrics.registry.metrics();
      assert.match(metrics, /^postern_activity_store_read_failures_total [1-9]/m);
    } finally {
      await admin.query('ALTER TABLE user_activity_away RENAME TO user_activity');
      await admin.end();
    }
    const fromA = await a.api<Answer>('GET', '/activity?limit=1000');
    assert.equal(fromA.status, 200);
    assert.equal(fromA.body.partial, undefined);
    const ids = fromA.body.items.map((i) => i.session_id);
    for (const id of ['hact-down-2', 'hact-down-1', 'hact-2']) {
      assert.ok(ids.includes(id), `${id} in ${ids.join(',')}`);
    }
    const onB = await b.api<Answer>('GET', '/activity?limit=1000');
    assert.equal(onB.body.partial, undefined);
    assert.ok(onB.body.items.some((i) => i.session_id === 'hact-down-2' && i.edge === 'hact-a'));
  });
});
