import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { EMBEDDED_DB_FILE, openEmbeddedStore, openMemoryStore } from './embedded-store.js';
import { rejectsWithCode, storeConformance } from './store-conformance.js';

let root = '';
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'postern-store-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

storeConformance('embedded (file)', ({ clock }) =>
  openEmbeddedStore({ dataDir: join(root, `conformance-${++counter}`), clock }),
);
storeConformance('embedded (memory)', ({ clock }) => openMemoryStore({ clock }));

describe('embedded store files', () => {
  test('creates <dataDir>/postern.db in WAL mode with mode 0600, its WAL file too', async () => {
    const dataDir = join(root, 'files', 'nested');
    const store = await openEmbeddedStore({ dataDir });
    try {
      await store.settings.set('probe', 1);
      const file = join(dataDir, EMBEDDED_DB_FILE);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(`${file}-wal`)).mode & 0o777, 0o600);
      assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
      const peek = new SQLite(file, { readonly: true });
      try {
        assert.equal(peek.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        peek.close();
      }
    } finally {
      await store.close();
    }
  });

  test('data survives closing and reopening, and reopening does not re-run migrations', async () => {
    const dataDir = join(root, 'reopen');
    const first = await openEmbeddedStore({ dataDir });
    await first.groups.create({ name: 'kept' });
    await first.provisioningKeys.create({ id: 'k', group: 'kept', secretHash: 'h', maxUsage: 1 });
    await first.provisioningKeys.consume('k', { now: 0 });
    await first.close();
    const second = await openEmbeddedStore({ dataDir });
    try {
      assert.deepEqual(
        (await second.groups.list()).map((g) => g.name),
        ['kept'],
      );
      assert.equal((await second.provisioningKeys.get('k'))?.usageCount, 1);
      await rejectsWithCode(
        second.provisioningKeys.consume('k', { now: 0 }),
        'POSTERN_ERR_KEY_EXHAUSTED',
      );
    } finally {
      await second.close();
    }
  });

  test('an existing database file is tightened to mode 0600', async () => {
    const dataDir = join(root, 'loose');
    const first = await openEmbeddedStore({ dataDir });
    await first.close();
    const file = join(dataDir, EMBEDDED_DB_FILE);
    await (await import('node:fs/promises')).chmod(file, 0o644);
    const second = await openEmbeddedStore({ dataDir });
    await second.close();
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  test('a file that is not a database is reported with POSTERN_ERR_STORE_OPEN', async () => {
    const dataDir = join(root, 'garbage');
    await openEmbeddedStore({ dataDir }).then((s) => s.close());
    await writeFile(join(dataDir, EMBEDDED_DB_FILE), 'this is not sqlite '.repeat(100));
    await rejectsWithCode(openEmbeddedStore({ dataDir }), 'POSTERN_ERR_STORE_OPEN');
  });

  test('create: false refuses a missing store with POSTERN_ERR_STORE_MISSING and creates nothing', async () => {
    const dataDir = join(root, 'typo');
    await assert.rejects(openEmbeddedStore({ dataDir, create: false }), (err: Error) => {
      assert.equal((err as { code?: string }).code, 'POSTERN_ERR_STORE_MISSING');
      assert.ok(err.message.includes(join(dataDir, EMBEDDED_DB_FILE)), err.message);
      return true;
    });
    await assert.rejects(stat(dataDir), /ENOENT/, 'no directory was created');
    const existing = join(root, 'existing');
    await openEmbeddedStore({ dataDir: existing }).then(async (s) => {
      await s.groups.create({ name: 'kept' });
      await s.close();
    });
    const reopened = await openEmbeddedStore({ dataDir: existing, create: false });
    try {
      assert.equal((await reopened.groups.get('kept'))?.name, 'kept');
    } finally {
      await reopened.close();
    }
  });

  test('a data directory that cannot be created is reported with POSTERN_ERR_STORE_OPEN', async () => {
    const blocker = join(root, 'blocker');
    await writeFile(blocker, 'a file where a directory should be');
    await rejectsWithCode(
      openEmbeddedStore({ dataDir: join(blocker, 'data') }),
      'POSTERN_ERR_STORE_OPEN',
    );
  });
});
