import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPostgres } from '../../test/support/postgres-server.js';
import type { PostgresServer } from '../../test/support/postgres-server.js';
import type { Clock } from '../core/index.js';
import { BACKUP_VERSION, exportState, importState } from './backup.js';
import { openEmbeddedStore } from './embedded-store.js';
import { openPostgresStore } from './postgres-store.js';
import { rejectsWithCode } from './store-conformance.js';
import type { Store } from './store.js';

const T0 = Date.UTC(2031, 5, 1);
let now = T0;
const clock: Clock = {
  now: () => now,
  monotonic: () => now - T0,
  setTimeout: () => ({}),
  clearTimeout: () => undefined,
};

let root = '';
let server: PostgresServer | undefined;
let dirs = 0;
const open: Store[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'postern-backup-'));
  server = await startPostgres();
});
after(async () => {
  try {
    await Promise.allSettled(open.splice(0).map((s) => s.close()));
  } finally {
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  }
});

type Backend = 'embedded' | 'postgresql';
async function fresh(backend: Backend): Promise<Store> {
  const store =
    backend === 'embedded'
      ? await openEmbeddedStore({ dataDir: join(root, `d${++dirs}`), clock })
      : await openPostgresStore({ connectionString: await server!.createDatabase(), clock });
  open.push(store);
  return store;
}

/** Fills a store with every kind of row, in states the create calls alone cannot produce. */
async function populate(store: Store): Promise<void> {
  now = T0;
  await store.groups.create({ name: 'dc-east', description: 'East', autoDeleteAfterDays: 3 });
  await store.groups.create({ name: 'dc-west', owner: 'document:groups.yaml' });
  const keys = store.provisioningKeys;
  await keys.create({ id: 'k1', group: 'dc-east', secretHash: 'sha256:aa', maxUsage: 2 });
  now += 10;
  await keys.create({
    id: 'k2',
    group: 'dc-west',
    secretHash: 'sha256:bb',
    expiresAt: T0 + 99_000,
    sourceCidrs: ['10.0.0.0/8', 'fd00::/8'],
    enabled: false,
  });
  await keys.consume('k1', { now });
  await keys.consume('k1', { now });
  now += 10;
  await keys.revoke('k2');
  await store.connectors.create({
    id: 'c1',
    group: 'dc-east',
    keyId: 'k1',
    ephemeral: true,
    certSerial: '0a',
    certNotAfter: T0 + 86_400_000,
  });
  await store.connectors.update('c1', {
    lastSeenAt: T0 + 50,
    version: '0.1.0',
    privateIp: '10.1.2.3',
    publicIp: '198.51.100.9',
  });
  await store.connectors.create({
    id: 'c2',
    group: 'dc-east',
    keyId: 'k1',
    ephemeral: false,
    certSerial: '0b',
    certNotAfter: T0 + 1,
  });
  await store.connectors.markRevoked('c2');
  await store.settings.set('ca', { certFile: 'ca.crt', keyFile: 'ca.key', serials: [1, 2] });
  await store.objects.create({ kind: 'pool', name: 'web', spec: { nodes: ['a:80'], w: 1.5 } });
  now += 10;
  await store.objects.update('pool', 'web', { nodes: ['b:80'], nested: { on: true, x: null } });
  await store.objects.create({ kind: 'rule', name: 'r', spec: 'text', owner: 'document:r.yaml' });
  await store.adminTokens.create({
    id: 't1',
    name: 'ci',
    role: 'operator',
    secretHash: 'sha256:cc',
  });
  await store.adminTokens.create({
    id: 't2',
    name: 'old',
    role: 'viewer',
    secretHash: 'sha256:dd',
    expiresAt: T0 + 5,
  });
  await store.adminTokens.touch('t1', T0 + 33);
  await store.adminTokens.revoke('t2');
  await store.audit.append({
    actor: 'token:ci',
    method: 'PUT',
    path: '/api/v1/pools/web',
    kind: 'pool',
    name: 'web',
    before: { nodes: ['a:80'] },
    after: { nodes: ['b:80'] },
    outcome: 'success',
    status: 200,
    source: '192.0.2.10',
  });
  now += 1;
  await store.audit.append({
    actor: 'bootstrap',
    method: 'DELETE',
    path: '/api/v1/pools/x',
    outcome: 'failure',
    status: 404,
    errorCode: 'POSTERN_ERR_NOT_FOUND',
  });
}

/** The backup as it would be read back from a file. */
async function backupText(store: Store): Promise<unknown> {
  return JSON.parse(JSON.stringify(await exportState(store, { now: T0 }))) as unknown;
}

const pairs: [Backend, Backend][] = [
  ['embedded', 'embedded'],
  ['embedded', 'postgresql'],
  ['postgresql', 'postgresql'],
  ['postgresql', 'embedded'],
];

for (const [from, to] of pairs) {
  describe(`backup from ${from}, restore into ${to}`, () => {
    test('round-trips every row exactly, counters, revocations and times included', async () => {
      const source = await fresh(from);
      await populate(source);
      const doc = await backupText(source);
      // A restore that stamped rows with the current time instead of the stored one would show.
      now = T0 + 1_000_000;
      const target = await fresh(to);
      await importState(target, doc);
      const original = await source.snapshot.read();
      assert.deepEqual(await target.snapshot.read(), original);
      assert.equal(original.groups.length, 2);
      assert.equal(original.provisioningKeys.length, 2);
      assert.equal(original.connectors.length, 2);
      assert.equal(original.objects.length, 2);
      assert.equal(original.settings[0]?.updatedAt, T0 + 20);
      assert.equal((await target.provisioningKeys.get('k1'))?.usageCount, 2);
      assert.equal((await target.connectors.get('c2'))?.revoked, true);
      assert.equal((await target.objects.get('pool', 'web'))?.updatedAt, T0 + 30);
      assert.equal(original.adminTokens.length, 2);
      assert.equal((await target.adminTokens.get('t1'))?.lastUsedAt, T0 + 33);
      assert.equal((await target.adminTokens.get('t2'))?.revoked, true);
      assert.deepEqual(
        (await target.audit.list()).map((r) => [r.actor, r.status, r.errorCode, r.source]),
        [
          ['bootstrap', 404, 'POSTERN_ERR_NOT_FOUND', undefined],
          ['token:ci', 200, undefined, '192.0.2.10'],
        ],
      );
    });

    test('the restored store keeps enforcing key state', async () => {
      const source = await fresh(from);
      await populate(source);
      const target = await fresh(to);
      await importState(target, await backupText(source));
      await rejectsWithCode(
        target.provisioningKeys.consume('k1', { now: T0 }),
        'POSTERN_ERR_KEY_EXHAUSTED',
      );
      await rejectsWithCode(
        target.provisioningKeys.consume('k2', { now: T0 }),
        'POSTERN_ERR_KEY_REVOKED',
      );
      await rejectsWithCode(target.groups.delete('dc-east'), 'POSTERN_ERR_CONFLICT');
    });
  });
}

for (const backend of ['embedded', 'postgresql'] as const) {
  describe(`restore safety on ${backend}`, () => {
    test('a non-empty store is refused unchanged; --force replaces all of it', async () => {
      const source = await fresh(backend);
      await populate(source);
      const doc = await backupText(source);
      const target = await fresh(backend);
      await target.groups.create({ name: 'old-group' });
      await target.settings.set('old', 1);
      const before = await target.snapshot.read();
      await rejectsWithCode(importState(target, doc), 'POSTERN_ERR_RESTORE_NOT_EMPTY');
      assert.deepEqual(await target.snapshot.read(), before);
      await importState(target, doc, { force: true });
      assert.deepEqual(await target.snapshot.read(), await source.snapshot.read());
      assert.equal(await target.groups.get('old-group'), undefined);
      assert.equal(await target.settings.get('old'), undefined);
    });

    test('a backup with a dangling reference fails and a forced restore changes nothing', async () => {
      const source = await fresh(backend);
      await populate(source);
      const doc = (await backupText(source)) as { state: { groups: unknown[] } };
      doc.state.groups = doc.state.groups.filter((g) => (g as { name: string }).name !== 'dc-west');
      const target = await fresh(backend);
      await target.groups.create({ name: 'survivor' });
      const before = await target.snapshot.read();
      await rejectsWithCode(
        importState(target, doc, { force: true }),
        'POSTERN_ERR_BACKUP_INVALID',
      );
      assert.deepEqual(await target.snapshot.read(), before, 'the transaction rolled back');
    });
  });
}

describe('backup documents', () => {
  test('a version 1 backup (before admin tokens and the audit log) restores with none', async () => {
    const store = await fresh('embedded');
    await populate(store);
    const doc = (await backupText(store)) as { version: number; state: Record<string, unknown> };
    doc.version = 1;
    delete doc.state.adminTokens;
    delete doc.state.auditLog;
    const target = await fresh('embedded');
    await importState(target, doc);
    const restored = await target.snapshot.read();
    assert.equal(restored.groups.length, 2);
    assert.deepEqual(restored.adminTokens, []);
    assert.deepEqual(restored.auditLog, []);
  });

  test('a backup from before audit sources (schema 0011) restores its records without source', async () => {
    const store = await fresh('embedded');
    await populate(store);
    const doc = (await backupText(store)) as {
      schema: string;
      state: { auditLog: Record<string, unknown>[] };
    };
    doc.schema = '0011-device-attempts';
    for (const record of doc.state.auditLog) delete record.source;
    const target = await fresh('embedded');
    await importState(target, doc);
    const restored = await target.audit.list();
    assert.equal(restored.length, 2);
    assert.ok(restored.every((r) => !('source' in r)));
  });

  test('hold secret hashes and file references, and say which format they are', async () => {
    const store = await fresh('embedded');
    await populate(store);
    const doc = (await backupText(store)) as Record<string, unknown>;
    assert.equal(doc.format, 'postern-backup');
    assert.equal(doc.version, BACKUP_VERSION);
    assert.equal(doc.createdAt, new Date(T0).toISOString());
    assert.match(JSON.stringify(doc), /sha256:aa/);
  });

  test('anything that is not a valid backup is POSTERN_ERR_BACKUP_INVALID', async () => {
    const store = await fresh('embedded');
    await populate(store);
    const good = (await backupText(store)) as Record<string, unknown>;
    const target = await fresh('embedded');
    const bad: unknown[] = [
      null,
      { hello: 'world' },
      { ...good, format: 'other' },
      { ...good, version: BACKUP_VERSION + 1 },
      { ...good, schema: '9999-from-the-future' },
      { ...good, state: { ...(good.state as object), groups: [{ name: 'x' }] } },
    ];
    for (const doc of bad)
      await rejectsWithCode(importState(target, doc), 'POSTERN_ERR_BACKUP_INVALID');
    assert.deepEqual((await target.snapshot.read()).groups, []);
  });
});
