// Part of the store conformance suite (store-conformance.ts): group updates, admin tokens and
// the audit log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../core/index.js';
import type { AuditFilter, Store } from './store.js';

/** What these tests need from the suite: a fresh store and its manual clock. */
export interface AdminTestContext {
  store: Store;
  time: { clock: Clock; advance(ms: number): void };
}

/** Registers the group update and admin token tests every backend must pass. */
export function adminTokenTests(ctx: AdminTestContext): void {
  test('groups: update changes or clears description and auto-delete; a missing group is not found', async () => {
    const t0 = ctx.time.clock.now();
    await ctx.store.groups.create({ name: 'g', description: 'old', autoDeleteAfterDays: 3 });
    const updated = await ctx.store.groups.update('g', { autoDeleteAfterDays: 9 });
    assert.deepEqual(updated, {
      name: 'g',
      description: 'old',
      autoDeleteAfterDays: 9,
      owner: 'api',
      createdAt: t0,
    });
    const cleared = await ctx.store.groups.update('g', { description: null });
    assert.equal(cleared.description, undefined);
    assert.deepEqual(await ctx.store.groups.get('g'), cleared);
    await rejectsNotFound(ctx.store.groups.update('nope', {}));
  });

  test('admin tokens: create, get, list by name, touch and revoke; names are unique', async () => {
    const t0 = ctx.time.clock.now();
    const tokens = ctx.store.adminTokens;
    const ci = await tokens.create({ id: 't1', name: 'ci', role: 'operator', secretHash: 'h1' });
    assert.deepEqual(ci, {
      id: 't1',
      name: 'ci',
      role: 'operator',
      secretHash: 'h1',
      createdAt: t0,
      revoked: false,
    });
    await tokens.create({
      id: 't2',
      name: 'alice',
      role: 'viewer',
      secretHash: 'h2',
      expiresAt: t0 + 10,
    });
    await assert.rejects(
      tokens.create({ id: 't3', name: 'ci', role: 'admin', secretHash: 'h3' }),
      (err: { code?: string }) => err.code === 'POSTERN_ERR_CONFLICT',
    );
    assert.deepEqual(
      (await tokens.list()).map((t) => [t.name, t.role, t.expiresAt]),
      [
        ['alice', 'viewer', t0 + 10],
        ['ci', 'operator', undefined],
      ],
    );
    await tokens.touch('t1', t0 + 5);
    assert.equal((await tokens.get('t1'))?.lastUsedAt, t0 + 5);
    ctx.time.advance(3);
    const revoked = await tokens.revoke('t1');
    assert.equal(revoked.revoked, true);
    assert.equal(revoked.revokedAt, t0 + 3);
    ctx.time.advance(3);
    assert.equal((await tokens.revoke('t1')).revokedAt, t0 + 3, 'revoking again keeps the time');
    await rejectsNotFound(tokens.revoke('missing'));
    assert.equal(await tokens.get('missing'), undefined);
  });
}

const entry = (actor: string, kind: string, status = 200) => ({
  actor,
  method: 'PUT',
  path: `/api/v1/${kind}s/x`,
  kind,
  name: 'x',
  outcome: status < 400 ? ('success' as const) : ('failure' as const),
  status,
});

/** Registers the audit log tests every backend must pass. */
export function auditTests(ctx: AdminTestContext): void {
  test('audit: records keep every field and list newest first, in write order within a millisecond', async () => {
    const t0 = ctx.time.clock.now();
    const audit = ctx.store.audit;
    const first = await audit.append({
      ...entry('token:ci', 'pool'),
      before: { nodes: ['a:1'], nested: { on: true, none: null } },
      after: { nodes: ['b:2'] },
    });
    assert.equal(first.at, t0);
    ctx.time.advance(1);
    const second = await audit.append({
      ...entry('bootstrap', 'rule', 409),
      errorCode: 'POSTERN_ERR_CONFLICT',
    });
    const third = await audit.append(entry('bootstrap', 'pool'));
    const listed = await audit.list();
    assert.deepEqual(
      listed.map((r) => r.id),
      [third.id, second.id, first.id],
    );
    assert.deepEqual(listed[2], first);
    assert.deepEqual(listed[1], second);
    assert.equal(second.at, t0 + 1);
    assert.equal(listed[1]?.before, undefined);
  });

  test('audit: a record keeps its source; one appended without a source reads back without it', async () => {
    const audit = ctx.store.audit;
    const withSource = await audit.append({ ...entry('token:ci', 'pool'), source: '192.0.2.7' });
    const without = await audit.append(entry('system:auto-delete', 'connector'));
    assert.equal(withSource.source, '192.0.2.7');
    assert.equal('source' in without, false);
    const listed = await audit.list();
    const read = (id: string) => listed.find((r) => r.id === id);
    assert.deepEqual(read(withSource.id), withSource);
    assert.equal(read(withSource.id)?.source, '192.0.2.7');
    const readWithout = read(without.id);
    assert.deepEqual(readWithout, without);
    assert.ok(readWithout !== undefined && !('source' in readWithout));
  });

  test('audit: filters by kind, actor and time, and pages with before and limit', async () => {
    const t0 = ctx.time.clock.now();
    const audit = ctx.store.audit;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await audit.append(entry(i % 2 === 0 ? 'a' : 'b', i < 3 ? 'pool' : 'rule'))).id);
      ctx.time.advance(10);
    }
    const indexes = async (filter: AuditFilter) =>
      (await audit.list(filter)).map((r) => ids.indexOf(r.id));
    assert.deepEqual(await indexes({ kind: 'pool' }), [2, 1, 0]);
    assert.deepEqual(await indexes({ actor: 'b' }), [3, 1]);
    assert.deepEqual(await indexes({ since: t0 + 10, until: t0 + 40 }), [3, 2, 1]);
    assert.deepEqual(await indexes({ limit: 2 }), [4, 3]);
    assert.deepEqual(await indexes({ limit: 2, before: ids[3]! }), [2, 1]);
    assert.deepEqual(await indexes({ kind: 'pool', actor: 'a', before: ids[2]! }), [0]);
  });
}

async function rejectsNotFound(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: { code?: string }) => err.code === 'POSTERN_ERR_NOT_FOUND');
}
