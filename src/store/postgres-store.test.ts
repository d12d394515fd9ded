import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startPostgres } from '../../test/support/postgres-server.js';
import type { PostgresServer } from '../../test/support/postgres-server.js';
import { openPostgresStore, redactConnectionString } from './postgres-store.js';
import { rejectsWithCode, storeConformance } from './store-conformance.js';

// No skip when PostgreSQL is missing: startPostgres throws with a setup hint and every test fails.
let server: PostgresServer | undefined;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

function running(): PostgresServer {
  if (server === undefined) throw new Error('the PostgreSQL test server did not start');
  return server;
}

// Each store gets a database of its own, so every conformance test starts empty.
storeConformance('postgresql', async ({ clock }) =>
  openPostgresStore({ connectionString: await running().createDatabase(), clock }),
);

describe('postgresql store', () => {
  test('create: false refuses a database without Postern tables and opens one that has them', async () => {
    const url = await running().createDatabase();
    await rejectsWithCode(
      openPostgresStore({ connectionString: url, create: false }),
      'POSTERN_ERR_STORE_MISSING',
    );
    const made = await openPostgresStore({ connectionString: url, create: false }).catch(
      () => undefined,
    );
    assert.equal(made, undefined, 'the refused open created no tables');
    await (await openPostgresStore({ connectionString: url })).close();
    const reopened = await openPostgresStore({ connectionString: url, create: false });
    await reopened.close();
  });

  test('data survives closing and reopening, and a second open does not re-run migrations', async () => {
    const url = await running().createDatabase();
    const first = await openPostgresStore({ connectionString: url });
    await first.groups.create({ name: 'kept' });
    await first.provisioningKeys.create({ id: 'k', group: 'kept', secretHash: 'h', maxUsage: 1 });
    await first.provisioningKeys.consume('k', { now: 0 });
    await first.close();
    const [a, b] = await Promise.all([
      openPostgresStore({ connectionString: url }),
      openPostgresStore({ connectionString: url }),
    ]);
    try {
      assert.deepEqual(
        (await a.groups.list()).map((g) => g.name),
        ['kept'],
      );
      assert.equal((await b.provisioningKeys.get('k'))?.usageCount, 1);
      await rejectsWithCode(
        a.provisioningKeys.consume('k', { now: 0 }),
        'POSTERN_ERR_KEY_EXHAUSTED',
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('two stores on one database share the key counter atomically', async () => {
    const url = await running().createDatabase();
    const a = await openPostgresStore({ connectionString: url });
    const b = await openPostgresStore({ connectionString: url });
    try {
      await a.groups.create({ name: 'g' });
      await a.provisioningKeys.create({ id: 'k', group: 'g', secretHash: 'h', maxUsage: 7 });
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) =>
          (i % 2 === 0 ? a : b).provisioningKeys.consume('k', { now: 0 }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 7);
      assert.equal((await b.provisioningKeys.get('k'))?.usageCount, 7);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('two stores on one database count device attempts atomically (two edges racing)', async () => {
    const url = await running().createDatabase();
    const a = await openPostgresStore({ connectionString: url });
    const b = await openPostgresStore({ connectionString: url });
    try {
      const at = Date.UTC(2030, 0, 1);
      const counts = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? a : b).deviceAttempts.increment('wrong-code:ip:192.0.2.1', {
            at,
            windowMs: 900_000,
          }),
        ),
      );
      const seen = counts.map((c) => c.attempts).sort((x, y) => x - y);
      assert.deepEqual(
        seen,
        Array.from({ length: 40 }, (_, i) => i + 1),
        'each count once',
      );
      assert.equal((await a.deviceAttempts.get('wrong-code:ip:192.0.2.1', at))?.attempts, 40);
      assert.ok(counts.every((c) => c.windowStart === at && c.expiresAt === at + 900_000));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('an unreachable server is POSTERN_ERR_STORE_CONNECT and the password is not shown', async () => {
    const url = new URL(running().connectionString);
    url.password = 'hunter2-secret';
    url.pathname = '/no_such_database';
    await assert.rejects(openPostgresStore({ connectionString: url.toString() }), (err: Error) => {
      assert.equal((err as { code?: string }).code, 'POSTERN_ERR_STORE_CONNECT');
      assert.match(err.message, /no_such_database/);
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    });
  });

  test('a location that is not a postgres:// URL is POSTERN_ERR_STORE_URL', async () => {
    await rejectsWithCode(
      openPostgresStore({ connectionString: 'mysql://u:p@127.0.0.1/db' }),
      'POSTERN_ERR_STORE_URL',
    );
    assert.equal(redactConnectionString('postgres://u:pw@h:5432/d'), 'postgres://u:***@h:5432/d');
  });

  test('a change announced through one store is heard by another on the same database (NOTIFY)', async () => {
    const url = await running().createDatabase();
    const a = await openPostgresStore({ connectionString: url });
    const b = await openPostgresStore({ connectionString: url });
    try {
      assert.equal(b.changes.scope, 'cluster');
      const heard: unknown[] = [];
      let arrived: () => void = () => undefined;
      b.changes.subscribe((change) => {
        heard.push(change);
        arrived();
      });
      const waitFor = (count: number) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`heard ${heard.length}`)), 5000);
          arrived = () => {
            if (heard.length < count) return;
            clearTimeout(timer);
            resolve();
          };
          arrived();
        });
      // b listens on a connection of its own; its own announcement waits until it listens.
      await b.changes.publish({ topic: 'warm-up', origin: 'edge-b' });
      await waitFor(1);
      await a.changes.publish({ topic: 'config', origin: 'edge-a' });
      await waitFor(2);
      assert.deepEqual(heard, [
        { topic: 'warm-up', origin: 'edge-b' },
        { topic: 'config', origin: 'edge-a' },
      ]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
