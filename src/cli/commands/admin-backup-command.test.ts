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

function run(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.POSTERN_STORE;
    delete env.POSTERN_DATA_DIR;
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 30_000, ...options, env: options.env ?? env },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
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
    await store.adminTokens.create({
      id: 't1',
      name: 'ops',
      role: 'operator',
      secretHash: 'sha256:t',
    });
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
  assert.match(
    backup.stderr,
    /backed up 1 groups, 1 provisioning keys, 0 connectors, 0 settings, 1 objects, 1 admin tokens, 0 audit records from /,
  );
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

test('admin backup refuses a data dir or database without a store and creates nothing', async () => {
  const typo = join(root, 'e1-typo');
  const file = join(root, 'typo.json');
  const res = await run(['admin', 'backup', file, '--data-dir', typo]);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /POSTERN_ERR_STORE_MISSING/);
  assert.ok(res.stderr.includes(join(typo, 'postern.db')), res.stderr);
  assert.match(res.stderr, /Check --data-dir/);
  assert.equal(await exists(typo), false, 'no store directory was created');
  assert.equal(await exists(file), false, 'no backup file was written');

  const cwd = await mkdtemp(join(root, 'cwd-'));
  const byDefault = await run(['admin', 'backup', 'b.json'], { cwd });
  assert.equal(byDefault.code, 1);
  assert.match(byDefault.stderr, /POSTERN_ERR_STORE_MISSING/);
  assert.equal(await exists(join(cwd, 'postern-data')), false);

  const url = await server!.createDatabase();
  const pg = await run(['admin', 'backup', file, '--store', url]);
  assert.equal(pg.code, 1);
  assert.match(pg.stderr, /POSTERN_ERR_STORE_MISSING/);
  assert.match(pg.stderr, /no Postern tables/);
});

test('admin restore needs --data-dir or --store and never creates ./postern-data by default', async () => {
  const source = join(root, 'restore-source');
  await seed(source);
  const file = join(root, 'restore.json');
  assert.equal((await run(['admin', 'backup', file, '--data-dir', source])).code, 0);
  const cwd = await mkdtemp(join(root, 'cwd-'));
  const res = await run(['admin', 'restore', file], { cwd });
  assert.equal(res.code, 1);
  assert.match(res.stderr, /POSTERN_ERR_RESTORE_TARGET_REQUIRED/);
  assert.match(res.stderr, /--data-dir <dir>/);
  assert.equal(await exists(join(cwd, 'postern-data')), false);
  const emptyEnv = await run(['admin', 'restore', file], {
    cwd,
    env: { ...process.env, POSTERN_DATA_DIR: '', POSTERN_STORE: '' },
  });
  assert.match(
    emptyEnv.stderr,
    /POSTERN_ERR_RESTORE_TARGET_REQUIRED/,
    'an empty variable is unset',
  );
  assert.equal(await exists(join(cwd, 'postern.db')), false);

  const target = join(root, 'restore-target');
  const ok = await run(['admin', 'restore', file, '--data-dir', target]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(ok.stderr.includes(`into ${target}`), ok.stderr);
  assert.match(ok.stderr, /1 admin tokens/);
});

test('backup and restore file problems are coded errors that say what to fix, with no stack', async () => {
  const source = join(root, 'files-source');
  await seed(source);
  const target = join(root, 'files-target');
  const cases: [string[], RegExp, RegExp][] = [
    [
      ['admin', 'backup', join(root, 'no', 'such', 'dir', 'x.json'), '--data-dir', source],
      /POSTERN_ERR_BACKUP_WRITE/,
      /its directory does not exist/,
    ],
    [
      ['admin', 'restore', join(root, 'nonexistent.json'), '--data-dir', target],
      /POSTERN_ERR_BACKUP_READ/,
      /the file does not exist/,
    ],
    [
      ['admin', 'restore', root, '--data-dir', target],
      /POSTERN_ERR_BACKUP_READ/,
      /it is a directory/,
    ],
  ];
  const notBackup = join(root, 'not-a-backup.json');
  await writeFile(notBackup, '{"hello": "world"}');
  cases.push([
    ['admin', 'restore', notBackup, '--data-dir', target],
    /POSTERN_ERR_BACKUP_INVALID/,
    /not a Postern backup document/,
  ]);
  for (const [args, code, words] of cases) {
    const res = await run(args);
    assert.equal(res.code, 1, args.join(' '));
    assert.match(res.stderr, code, args.join(' '));
    assert.match(res.stderr, words, args.join(' '));
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.equal(await exists(target), false, 'a refused restore created no store');
});
