import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startPostgres } from '../../../test/support/postgres-server.js';
import type { PostgresServer } from '../../../test/support/postgres-server.js';
import { openEmbeddedStore, openPostgresStore } from '../../store/index.js';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.POSTERN_STORE;
    delete env.POSTERN_DATA_DIR;
    execFile(process.execPath, [CLI, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let root = '';
let server: PostgresServer | undefined;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'postern-admin-backup-'));
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
  await rm(root, { recursive: true, force: true });
});

async function seed(dataDir: string): Promise<void> {
  const store = await openEmbeddedStore({ dataDir });
  try {
    await store.groups.create({ name: 'dc-east' });
    await store.provisioningKeys.create({ id: 'k1', group: 'dc-east', secretHash: 'sha256:x' });
    await store.provisioningKeys.consume('k1', { now: 0 });
    await store.objects.create({ kind: 'pool', name: 'web', spec: { nodes: ['a:80'] } });
  } finally {
    await store.close();
  }
}

test('admin backup writes a 0600 JSON file that admin restore loads into an empty embedded store', async () => {
  const source = join(root, 'source');
  await seed(source);
  const file = join(root, 'backup.json');
  const backup = await run(['admin', 'backup', file, '--data-dir', source]);
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(backup.stderr, /backed up 1 groups, 1 provisioning keys/);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const doc = JSON.parse(await readFile(file, 'utf8')) as { format: string };
  assert.equal(doc.format, 'postern-backup');

  const target = join(root, 'target');
  const restore = await run(['admin', 'restore', file, '--data-dir', target]);
  assert.equal(restore.code, 0, restore.stderr);
  const store = await openEmbeddedStore({ dataDir: target });
  try {
    assert.equal((await store.provisioningKeys.get('k1'))?.usageCount, 1);
    assert.deepEqual((await store.objects.get('pool', 'web'))?.spec, { nodes: ['a:80'] });
  } finally {
    await store.close();
  }

  const again = await run(['admin', 'restore', file, '--data-dir', target]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /POSTERN_ERR_RESTORE_NOT_EMPTY/);
  assert.doesNotMatch(again.stderr, /\n\s+at /, 'no stack trace');
  const forced = await run(['admin', 'restore', file, '--data-dir', target, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
});

test('admin restore --store loads a backup into PostgreSQL, and bad input is a coded error', async () => {
  const source = join(root, 'pg-source');
  await seed(source);
  const file = join(root, 'pg-backup.json');
  assert.equal((await run(['admin', 'backup', file, '--data-dir', source])).code, 0);
  const url = await server!.createDatabase();
  const restore = await run(['admin', 'restore', file, '--store', url]);
  assert.equal(restore.code, 0, restore.stderr);
  const store = await openPostgresStore({ connectionString: url });
  try {
    assert.equal((await store.provisioningKeys.get('k1'))?.usageCount, 1);
  } finally {
    await store.close();
  }
  const garbage = join(root, 'garbage.json');
  await writeFile(garbage, 'not json');
  const bad = await run(['admin', 'restore', garbage, '--store', url]);
  assert.match(bad.stderr, /POSTERN_ERR_BACKUP_INVALID/);
  const wrongUrl = await run(['admin', 'backup', file, '--store', 'mysql://x@127.0.0.1/db']);
  assert.match(wrongUrl.stderr, /POSTERN_ERR_STORE_URL/);
});
