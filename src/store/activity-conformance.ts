// Part of the store conformance suite (store-conformance.ts): the user activity log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LeaseTestContext } from './lease-conformance.js';
import type { ActivityRecord } from './store.js';

const T0 = Date.UTC(2030, 0, 1);

/** An id in the documented shape: the 15-digit millisecond first, so ids sort by time. */
const idOf = (at: number, writer: string, seq: number) =>
  `${String(at).padStart(15, '0')}-${writer}-${String(seq).padStart(10, '0')}`;

const decision = (seq: number, at = T0 + seq, serverId = 'edge-a'): ActivityRecord => ({
  id: idOf(at, serverId, seq),
  at,
  serverId,
  seq,
  kind: 'decision',
  sessionId: `s-${seq}`,
  groups: [],
  clientType: 'tcp_client',
  source: '192.0.2.1:5000',
  destination: `db-${seq}:5432`,
  action: 'deny',
  reason: 'no rule matched',
});

const sessionEnd: ActivityRecord = {
  id: idOf(T0 + 500, 'edge-b', 7),
  at: T0 + 500,
  serverId: 'edge-b',
  seq: 7,
  kind: 'session_end',
  sessionId: 's-full',
  user: 'alice@example.com',
  groups: ['eng', 'ops'],
  clientType: 'browser',
  source: '198.51.100.4:61000',
  application: 'wiki',
  destination: 'virtual_server:wiki',
  rule: 'eng-web',
  action: 'allow',
  reason: 'rule eng-web allows group eng',
  status: 200,
  connector: 'c-1',
  // Larger than 2^32: int8 columns must round-trip as numbers on every backend.
  bytesFromClient: 6_000_000_000,
  bytesToClient: 12,
  durationMs: 86_400_000,
  closeReason: 'closed',
};

/** Registers the user activity tests every backend must pass. */
export function activityTests(ctx: LeaseTestContext): void {
  test('activity: append stores every field; list returns records newest first', async () => {
    await ctx.store.activity.append([decision(1), sessionEnd, decision(2)]);
    assert.deepEqual(await ctx.store.activity.list(), [sessionEnd, decision(2), decision(1)]);
    assert.deepEqual(await ctx.store.activity.list({ limit: 1 }), [sessionEnd]);
    await ctx.store.activity.append([]);
    assert.equal((await ctx.store.activity.list()).length, 3);
  });

  test('activity: before continues below an id, so pages neither repeat nor skip records', async () => {
    await ctx.store.activity.append(Array.from({ length: 7 }, (_, i) => decision(i + 1)));
    const first = await ctx.store.activity.list({ limit: 3 });
    const second = await ctx.store.activity.list({ limit: 3, before: first.at(-1)!.id });
    const third = await ctx.store.activity.list({ limit: 3, before: second.at(-1)!.id });
    assert.deepEqual(
      [first, second, third].map((page) => page.map((r) => r.seq)),
      [[7, 6, 5], [4, 3, 2], [1]],
    );
  });

  test('activity: a record whose id is stored already is skipped, and big batches are stored whole', async () => {
    const batch = Array.from({ length: 450 }, (_, i) => decision(i + 1));
    await ctx.store.activity.append(batch);
    await ctx.store.activity.append([{ ...decision(3), reason: 'a retried write' }, decision(451)]);
    const all = await ctx.store.activity.list({ limit: 1000 });
    assert.equal(all.length, 451);
    assert.equal(all.find((r) => r.seq === 3)?.reason, 'no rule matched');
    assert.equal((await ctx.store.activity.list({ limit: 5000 })).length, 451);
  });

  test('activity: prune deletes records older than a time, then all but the newest ones', async () => {
    await ctx.store.activity.append(Array.from({ length: 10 }, (_, i) => decision(i + 1)));
    assert.equal(await ctx.store.activity.prune({ olderThan: T0 + 4, keep: 100 }), 3);
    assert.deepEqual(
      (await ctx.store.activity.list()).map((r) => r.seq),
      [10, 9, 8, 7, 6, 5, 4],
    );
    assert.equal(await ctx.store.activity.prune({ olderThan: 0, keep: 2 }), 5);
    assert.deepEqual(
      (await ctx.store.activity.list()).map((r) => r.seq),
      [10, 9],
    );
    assert.equal(await ctx.store.activity.prune({ olderThan: 0, keep: 2 }), 0);
    assert.equal(await ctx.store.activity.prune({ olderThan: T0 + 1000, keep: 2 }), 2);
    assert.equal(await ctx.store.activity.prune({ olderThan: T0 + 1000, keep: 2 }), 0);
  });
}
