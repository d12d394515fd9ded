// One file on purpose (longer than most): it is the whole contract every Store backend must
// meet, read top to bottom by whoever writes the next backend (PostgreSQL, issue 6).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Clock } from '../core/index.js';
import { adminTokenTests, auditTests } from './admin-audit-conformance.js';
import { edgeLeaseTests } from './lease-conformance.js';
import { sessionTests } from './session-conformance.js';
import { connectorTunnelTests } from './tunnel-conformance.js';
import { activityTests } from './activity-conformance.js';
import { deviceAuthorizationTests } from './device-authorization-conformance.js';
import { deviceAttemptTests } from './device-attempt-conformance.js';
import type { Store } from './store.js';

/** Creates a fresh, empty store whose timestamps come from `clock`. */
export type StoreFactory = (options: { clock: Clock }) => Promise<Store>;

const T0 = Date.UTC(2030, 0, 1);

/** A clock that moves only when told to; the store never needs its timers. */
function manualClock(): { clock: Clock; advance(ms: number): void } {
  let now = T0;
  return {
    clock: {
      now: () => now,
      monotonic: () => now - T0,
      setTimeout: () => ({}),
      clearTimeout: () => undefined,
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

/** Asserts that `promise` rejects with a PosternError carrying `code`. */
export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code, String(err));
    return true;
  });
}

/**
 * Registers the behaviour every Store backend must show as node:test tests. Call it from a
 * backend's test file with a factory that returns a new, empty store each time.
 */
export function storeConformance(name: string, factory: StoreFactory): void {
  describe(`${name} store conformance`, () => {
    const ctx = { store: undefined as unknown as Store, time: manualClock() };
    beforeEach(async () => {
      ctx.time = manualClock();
      ctx.store = await factory({ clock: ctx.time.clock });
    });
    afterEach(async () => {
      await ctx.store.close();
    });
    groupTests(ctx);
    keyTests(ctx);
    consumeTests(ctx);
    connectorTests(ctx);
    settingsAndObjectTests(ctx);
    adminTokenTests(ctx);
    auditTests(ctx);
    edgeLeaseTests(ctx);
    sessionTests(ctx);
    connectorTunnelTests(ctx);
    activityTests(ctx);
    deviceAuthorizationTests(ctx);
    deviceAttemptTests(ctx);
  });
}

interface Context {
  store: Store;
  time: { clock: Clock; advance(ms: number): void };
}

async function seedGroupAndKey(store: Store, keyOptions: { maxUsage?: number } = {}) {
  await store.groups.create({ name: 'dc-east' });
  return store.provisioningKeys.create({
    id: 'k1',
    group: 'dc-east',
    secretHash: 'h1',
    ...keyOptions,
  });
}

function groupTests(ctx: Context): void {
  test('groups: create fills defaults and get/list return what was stored', async () => {
    const created = await ctx.store.groups.create({ name: 'b-group', description: 'B' });
    await ctx.store.groups.create({
      name: 'a-group',
      autoDeleteAfterDays: 7,
      owner: 'document:g.yaml',
    });
    assert.deepEqual(created, { name: 'b-group', description: 'B', owner: 'api', createdAt: T0 });
    assert.deepEqual(await ctx.store.groups.get('b-group'), created);
    assert.equal(await ctx.store.groups.get('missing'), undefined);
    assert.deepEqual(await ctx.store.groups.list(), [
      { name: 'a-group', autoDeleteAfterDays: 7, owner: 'document:g.yaml', createdAt: T0 },
      created,
    ]);
  });

  test('groups: a taken name is a conflict and a missing group cannot be deleted', async () => {
    await ctx.store.groups.create({ name: 'g' });
    await rejectsWithCode(ctx.store.groups.create({ name: 'g' }), 'POSTERN_ERR_CONFLICT');
    await rejectsWithCode(ctx.store.groups.delete('nope'), 'POSTERN_ERR_NOT_FOUND');
  });

  test('groups: deleting removes the group and its keys, but not while connectors remain', async () => {
    await seedGroupAndKey(ctx.store);
    await ctx.store.connectors.create(connector('c1'));
    await rejectsWithCode(ctx.store.groups.delete('dc-east'), 'POSTERN_ERR_CONFLICT');
    assert.ok(await ctx.store.groups.get('dc-east'), 'the refused delete changed nothing');
    await ctx.store.connectors.delete('c1');
    await ctx.store.groups.delete('dc-east');
    assert.equal(await ctx.store.groups.get('dc-east'), undefined);
    assert.equal(await ctx.store.provisioningKeys.get('k1'), undefined);
  });

  test('groups: revoked connectors do not block deletion and go with the group; live ones are named', async () => {
    await seedGroupAndKey(ctx.store);
    await ctx.store.connectors.create(connector('c1'));
    await ctx.store.connectors.create(connector('c2'));
    await ctx.store.groups.create({ name: 'other' });
    await ctx.store.provisioningKeys.create({ id: 'k2', group: 'other', secretHash: 'h2' });
    await ctx.store.connectors.create({ ...connector('c3'), group: 'other', keyId: 'k2' });
    await ctx.store.connectors.markRevoked('c3');
    await ctx.store.connectors.markRevoked('c1');
    await assert.rejects(ctx.store.groups.delete('dc-east'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'POSTERN_ERR_CONFLICT');
      assert.match(err.message, /1 live connector\(s\) \(c2\)/);
      assert.match(err.message, /postern connectors delete <id>/);
      return true;
    });
    assert.equal((await ctx.store.connectors.get('c1'))?.revoked, true, 'nothing changed');
    await ctx.store.connectors.markRevoked('c2');
    await ctx.store.groups.delete('dc-east');
    assert.equal(await ctx.store.groups.get('dc-east'), undefined);
    assert.deepEqual(
      (await ctx.store.connectors.list()).map((c) => c.id),
      ['c3'],
      "only the deleted group's connectors are gone",
    );
    assert.ok(await ctx.store.provisioningKeys.get('k2'));
  });
}

function keyTests(ctx: Context): void {
  test('keys: create applies defaults and keeps optional limits', async () => {
    await ctx.store.groups.create({ name: 'dc-east' });
    const plain = await ctx.store.provisioningKeys.create({
      id: 'k1',
      group: 'dc-east',
      secretHash: 'h',
    });
    assert.deepEqual(plain, {
      id: 'k1',
      group: 'dc-east',
      secretHash: 'h',
      maxUsage: 100,
      usageCount: 0,
      enabled: true,
      revoked: false,
      createdAt: T0,
    });
    const limited = await ctx.store.provisioningKeys.create({
      id: 'k2',
      group: 'dc-east',
      secretHash: 'h2',
      maxUsage: 3,
      expiresAt: T0 + 1000,
      sourceCidrs: ['10.0.0.0/8', 'fd00::/8'],
      enabled: false,
    });
    assert.deepEqual(await ctx.store.provisioningKeys.get('k2'), limited);
    assert.deepEqual(limited.sourceCidrs, ['10.0.0.0/8', 'fd00::/8']);
    assert.equal(limited.expiresAt, T0 + 1000);
    assert.equal(limited.enabled, false);
  });

  test('keys: an unknown group is not found and a taken id is a conflict', async () => {
    await rejectsWithCode(
      ctx.store.provisioningKeys.create({ id: 'k', group: 'none', secretHash: 'h' }),
      'POSTERN_ERR_NOT_FOUND',
    );
    await seedGroupAndKey(ctx.store);
    await rejectsWithCode(
      ctx.store.provisioningKeys.create({ id: 'k1', group: 'dc-east', secretHash: 'x' }),
      'POSTERN_ERR_CONFLICT',
    );
  });

  test('keys: list filters by group, oldest first', async () => {
    await seedGroupAndKey(ctx.store);
    await ctx.store.groups.create({ name: 'dc-west' });
    ctx.time.advance(1);
    await ctx.store.provisioningKeys.create({ id: 'k0', group: 'dc-west', secretHash: 'h' });
    ctx.time.advance(1);
    await ctx.store.provisioningKeys.create({ id: 'k2', group: 'dc-east', secretHash: 'h' });
    const ids = async (group?: string) =>
      (await ctx.store.provisioningKeys.list(group === undefined ? {} : { group })).map(
        (k) => k.id,
      );
    assert.deepEqual(await ids(), ['k1', 'k0', 'k2']);
    assert.deepEqual(await ids('dc-east'), ['k1', 'k2']);
    assert.deepEqual(await ids('dc-west'), ['k0']);
    assert.deepEqual(await ids('other'), []);
  });

  test('keys: revoke is permanent and keeps the first revocation time', async () => {
    await seedGroupAndKey(ctx.store);
    const revoked = await ctx.store.provisioningKeys.revoke('k1');
    assert.equal(revoked.revoked, true);
    assert.equal(revoked.revokedAt, T0);
    ctx.time.advance(5000);
    await ctx.store.provisioningKeys.setEnabled('k1', true);
    const again = await ctx.store.provisioningKeys.revoke('k1');
    assert.equal(again.revoked, true);
    assert.equal(again.revokedAt, T0);
    await rejectsWithCode(ctx.store.provisioningKeys.revoke('nope'), 'POSTERN_ERR_NOT_FOUND');
  });

  test('keys: setEnabled and setMaxUsage change only their field', async () => {
    await seedGroupAndKey(ctx.store);
    assert.equal((await ctx.store.provisioningKeys.setEnabled('k1', false)).enabled, false);
    const raised = await ctx.store.provisioningKeys.setMaxUsage('k1', 500);
    assert.equal(raised.maxUsage, 500);
    assert.equal(raised.enabled, false);
    await rejectsWithCode(
      ctx.store.provisioningKeys.setMaxUsage('k1', 0),
      'POSTERN_ERR_INVALID_ARGUMENT',
    );
    await rejectsWithCode(
      ctx.store.provisioningKeys.setEnabled('nope', true),
      'POSTERN_ERR_NOT_FOUND',
    );
  });
}

function consumeTests(ctx: Context): void {
  test('consume counts one use and returns the updated key', async () => {
    await seedGroupAndKey(ctx.store, { maxUsage: 2 });
    const first = await ctx.store.provisioningKeys.consume('k1', { now: T0 });
    assert.equal(first.usageCount, 1);
    assert.equal((await ctx.store.provisioningKeys.consume('k1', { now: T0 })).usageCount, 2);
    await rejectsWithCode(
      ctx.store.provisioningKeys.consume('k1', { now: T0 }),
      'POSTERN_ERR_KEY_EXHAUSTED',
    );
    assert.equal((await ctx.store.provisioningKeys.get('k1'))?.usageCount, 2);
  });

  test('every rejected consume has its own code and consumes nothing', async () => {
    await ctx.store.groups.create({ name: 'g' });
    const keys = ctx.store.provisioningKeys;
    const make = (
      id: string,
      extra: { maxUsage?: number; expiresAt?: number; sourceCidrs?: string[] } = {},
    ) => keys.create({ id, group: 'g', secretHash: `hash-${id}`, ...extra });
    await make('revoked');
    await keys.revoke('revoked');
    await make('disabled');
    await keys.setEnabled('disabled', false);
    await make('expired', { expiresAt: T0 });
    await make('exhausted', { maxUsage: 1 });
    await keys.consume('exhausted', { now: T0 });
    await make('cidr', { sourceCidrs: ['10.1.0.0/16', 'fd00::/8'] });
    await make('checked');
    const failing = (id: string) => () => {
      throw Object.assign(new Error(`bad secret for ${id}`), { code: 'TEST_BAD_SECRET' });
    };
    const cases: [string, Parameters<typeof keys.consume>[1], string][] = [
      ['missing', { now: T0 }, 'POSTERN_ERR_KEY_UNKNOWN'],
      ['revoked', { now: T0 }, 'POSTERN_ERR_KEY_REVOKED'],
      ['disabled', { now: T0 }, 'POSTERN_ERR_KEY_DISABLED'],
      ['expired', { now: T0 }, 'POSTERN_ERR_KEY_EXPIRED'],
      ['exhausted', { now: T0 }, 'POSTERN_ERR_KEY_EXHAUSTED'],
      ['cidr', { now: T0, sourceIp: '10.2.0.1' }, 'POSTERN_ERR_KEY_SOURCE_DENIED'],
      ['cidr', { now: T0, sourceIp: 'fe80::1' }, 'POSTERN_ERR_KEY_SOURCE_DENIED'],
      ['cidr', { now: T0 }, 'POSTERN_ERR_KEY_SOURCE_DENIED'],
      ['checked', { now: T0, check: failing('checked') }, 'TEST_BAD_SECRET'],
      // The caller's check runs first, so a wrong secret never learns the key's state.
      ['revoked', { now: T0, check: failing('revoked') }, 'TEST_BAD_SECRET'],
    ];
    const before = new Map((await keys.list()).map((k) => [k.id, k.usageCount]));
    for (const [id, options, code] of cases) await rejectsWithCode(keys.consume(id, options), code);
    const after = new Map((await keys.list()).map((k) => [k.id, k.usageCount]));
    assert.deepEqual(after, before);
    assert.equal(after.get('exhausted'), 1);
  });

  test('consume accepts allowed sources, including IPv4-mapped IPv6, and keys before expiry', async () => {
    await ctx.store.groups.create({ name: 'g' });
    const keys = ctx.store.provisioningKeys;
    await keys.create({
      id: 'cidr',
      group: 'g',
      secretHash: 'h',
      sourceCidrs: ['10.1.0.0/16', 'fd00::/8'],
    });
    await keys.create({ id: 'soon', group: 'g', secretHash: 'h', expiresAt: T0 + 1 });
    await keys.consume('cidr', { now: T0, sourceIp: '10.1.200.3' });
    await keys.consume('cidr', { now: T0, sourceIp: '::ffff:10.1.0.9' });
    await keys.consume('cidr', { now: T0, sourceIp: 'fd00::42' });
    assert.equal((await keys.get('cidr'))?.usageCount, 3);
    let seen: string | undefined;
    const used = await keys.consume('soon', { now: T0, check: (k) => void (seen = k.secretHash) });
    assert.equal(used.usageCount, 1);
    assert.equal(seen, 'h', 'check receives the stored key');
    await rejectsWithCode(keys.consume('soon', { now: T0 + 1 }), 'POSTERN_ERR_KEY_EXPIRED');
  });

  test('consume is atomic: 50 concurrent enrollments on a 10-use key, exactly 10 succeed', async () => {
    await seedGroupAndKey(ctx.store, { maxUsage: 10 });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        ctx.store.provisioningKeys.consume('k1', {
          now: T0,
          // An asynchronous check widens the window between reading and counting.
          check: () => new Promise<void>((resolve) => setImmediate(resolve)),
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 10);
    assert.equal(failed.length, 40);
    for (const f of failed)
      assert.equal((f.reason as { code?: string }).code, 'POSTERN_ERR_KEY_EXHAUSTED');
    assert.deepEqual(
      ok.map((r) => r.value.usageCount).sort((a, b) => a - b),
      Array.from({ length: 10 }, (_, i) => i + 1),
      'every success saw its own count',
    );
    assert.equal((await ctx.store.provisioningKeys.get('k1'))?.usageCount, 10);
  });

  test('release gives a use back, never below zero, and raising max_usage reopens a key', async () => {
    await seedGroupAndKey(ctx.store, { maxUsage: 1 });
    const keys = ctx.store.provisioningKeys;
    await keys.consume('k1', { now: T0 });
    await rejectsWithCode(keys.consume('k1', { now: T0 }), 'POSTERN_ERR_KEY_EXHAUSTED');
    assert.equal((await keys.release('k1')).usageCount, 0);
    assert.equal((await keys.release('k1')).usageCount, 0);
    assert.equal((await keys.get('k1'))?.usageCount, 0);
    await keys.consume('k1', { now: T0 });
    await keys.setMaxUsage('k1', 2);
    assert.equal((await keys.consume('k1', { now: T0 })).usageCount, 2);
    await rejectsWithCode(keys.release('nope'), 'POSTERN_ERR_NOT_FOUND');
  });
}

function connector(id: string, group = 'dc-east') {
  return {
    id,
    group,
    keyId: 'k1',
    ephemeral: false,
    certSerial: `s-${id}`,
    certNotAfter: T0 + 86_400_000,
  };
}

function connectorTests(ctx: Context): void {
  test('connectors: create, get and list by group', async () => {
    await seedGroupAndKey(ctx.store);
    await ctx.store.groups.create({ name: 'dc-west' });
    const c1 = await ctx.store.connectors.create({ ...connector('c1'), ephemeral: true });
    assert.deepEqual(c1, {
      id: 'c1',
      group: 'dc-east',
      keyId: 'k1',
      ephemeral: true,
      certSerial: 's-c1',
      certNotAfter: T0 + 86_400_000,
      createdAt: T0,
      revoked: false,
    });
    ctx.time.advance(1);
    await ctx.store.connectors.create(connector('c0', 'dc-west'));
    ctx.time.advance(1);
    await ctx.store.connectors.create(connector('c2'));
    assert.deepEqual(await ctx.store.connectors.get('c1'), c1);
    assert.equal(await ctx.store.connectors.get('nope'), undefined);
    const ids = async (group?: string) =>
      (await ctx.store.connectors.list(group === undefined ? {} : { group })).map((c) => c.id);
    assert.deepEqual(await ids(), ['c1', 'c0', 'c2']);
    assert.deepEqual(await ids('dc-east'), ['c1', 'c2']);
    assert.deepEqual(await ids('dc-west'), ['c0']);
  });

  test('connectors: unknown group or key is not found, a taken id is a conflict', async () => {
    await seedGroupAndKey(ctx.store);
    await rejectsWithCode(
      ctx.store.connectors.create(connector('c1', 'nope')),
      'POSTERN_ERR_NOT_FOUND',
    );
    await rejectsWithCode(
      ctx.store.connectors.create({ ...connector('c1'), keyId: 'nope' }),
      'POSTERN_ERR_NOT_FOUND',
    );
    await ctx.store.connectors.create(connector('c1'));
    await rejectsWithCode(ctx.store.connectors.create(connector('c1')), 'POSTERN_ERR_CONFLICT');
  });

  test('connectors: update changes only the given status fields', async () => {
    await seedGroupAndKey(ctx.store);
    await ctx.store.connectors.create(connector('c1'));
    await ctx.store.connectors.update('c1', {
      lastSeenAt: T0 + 5,
      version: '1.2.3',
      privateIp: '10.0.0.7',
    });
    const renewed = await ctx.store.connectors.update('c1', {
      certSerial: 's2',
      certNotAfter: T0 + 9,
      publicIp: '198.51.100.7',
    });
    assert.deepEqual(renewed, {
      ...connector('c1'),
      certSerial: 's2',
      certNotAfter: T0 + 9,
      createdAt: T0,
      revoked: false,
      lastSeenAt: T0 + 5,
      version: '1.2.3',
      privateIp: '10.0.0.7',
      publicIp: '198.51.100.7',
    });
    assert.deepEqual(await ctx.store.connectors.update('c1', {}), renewed);
    await rejectsWithCode(
      ctx.store.connectors.update('nope', { version: 'x' }),
      'POSTERN_ERR_NOT_FOUND',
    );
  });

  test('connectors: a revoked connector stays revoked and cannot record a new certificate', async () => {
    await seedGroupAndKey(ctx.store);
    await ctx.store.connectors.create(connector('c1'));
    const revoked = await ctx.store.connectors.markRevoked('c1');
    assert.equal(revoked.revoked, true);
    assert.equal(revoked.revokedAt, T0);
    ctx.time.advance(10);
    await rejectsWithCode(
      ctx.store.connectors.update('c1', { certSerial: 'new' }),
      'POSTERN_ERR_CONNECTOR_REVOKED',
    );
    const seen = await ctx.store.connectors.update('c1', { lastSeenAt: T0 + 10 });
    assert.equal(seen.revoked, true);
    assert.equal(seen.certSerial, 's-c1');
    const again = await ctx.store.connectors.markRevoked('c1');
    assert.equal(again.revokedAt, T0, 'the first revocation time is kept');
    assert.equal((await ctx.store.connectors.list({ group: 'dc-east' }))[0]?.revoked, true);
    await rejectsWithCode(ctx.store.connectors.markRevoked('nope'), 'POSTERN_ERR_NOT_FOUND');
  });

  test('connectors: delete removes one connector; a missing one is not found', async () => {
    await seedGroupAndKey(ctx.store);
    await ctx.store.connectors.create(connector('c1'));
    await ctx.store.connectors.create(connector('c2'));
    await ctx.store.connectors.delete('c1');
    assert.deepEqual(
      (await ctx.store.connectors.list()).map((c) => c.id),
      ['c2'],
    );
    await rejectsWithCode(ctx.store.connectors.delete('c1'), 'POSTERN_ERR_NOT_FOUND');
  });
}

function settingsAndObjectTests(ctx: Context): void {
  test('settings: JSON values round-trip, overwrite and delete', async () => {
    const settings = ctx.store.settings;
    assert.equal(await settings.get('ca'), undefined);
    const value = {
      cert: 'PEM',
      keyRef: { file: 'ca.key' },
      serials: [1, 2],
      on: true,
      none: null,
    };
    await settings.set('ca', value);
    assert.deepEqual(await settings.get('ca'), value);
    await settings.set('ca', 'replaced');
    assert.equal(await settings.get('ca'), 'replaced');
    assert.equal(await settings.delete('ca'), true);
    assert.equal(await settings.delete('ca'), false);
    assert.equal(await settings.get('ca'), undefined);
  });

  test('objects: create, get, list with filters, update and delete', async () => {
    const objects = ctx.store.objects;
    const pool = await objects.create({ kind: 'pool', name: 'web', spec: { nodes: ['a:1'] } });
    assert.deepEqual(pool, {
      kind: 'pool',
      name: 'web',
      spec: { nodes: ['a:1'] },
      owner: 'api',
      createdAt: T0,
      updatedAt: T0,
    });
    await objects.create({
      kind: 'virtual_server',
      name: 'web',
      spec: { pool: 'web' },
      owner: 'document:a.yaml',
    });
    await objects.create({ kind: 'pool', name: 'api', spec: {} });
    await rejectsWithCode(
      objects.create({ kind: 'pool', name: 'web', spec: {} }),
      'POSTERN_ERR_CONFLICT',
    );
    const names = async (filter: Parameters<typeof objects.list>[0]) =>
      (await objects.list(filter)).map((o) => `${o.kind}/${o.name}`);
    assert.deepEqual(await names({}), ['pool/api', 'pool/web', 'virtual_server/web']);
    assert.deepEqual(await names({ kind: 'pool' }), ['pool/api', 'pool/web']);
    assert.deepEqual(await names({ owner: 'document:a.yaml' }), ['virtual_server/web']);
    ctx.time.advance(7);
    const updated = await objects.update('pool', 'web', { nodes: ['b:2'] });
    assert.deepEqual(updated.spec, { nodes: ['b:2'] });
    assert.equal(updated.createdAt, T0);
    assert.equal(updated.updatedAt, T0 + 7);
    assert.deepEqual(await objects.get('pool', 'web'), updated);
    await objects.delete('pool', 'web');
    assert.equal(await objects.get('pool', 'web'), undefined);
    await rejectsWithCode(objects.delete('pool', 'web'), 'POSTERN_ERR_NOT_FOUND');
    await rejectsWithCode(objects.update('pool', 'web', {}), 'POSTERN_ERR_NOT_FOUND');
  });
}
