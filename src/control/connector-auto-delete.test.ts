import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { Clock } from '../core/index.js';
import { openMemoryStore, type Store } from '../store/index.js';
import { AuditLog } from './audit.js';
import { ConnectorAutoDelete } from './connector-auto-delete.js';

const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.UTC(2030, 0, 1);

/** A clock moved by the test; timers fire only when `fire` is called. */
function manualClock() {
  let now = T0;
  const timers = new Map<object, () => void>();
  const clock: Clock = {
    now: () => now,
    monotonic: () => now - T0,
    setTimeout: (fn) => {
      const handle = {};
      timers.set(handle, fn);
      return handle;
    },
    clearTimeout: (handle) => void timers.delete(handle),
  };
  return {
    clock,
    advance: (ms: number) => void (now += ms),
    pending: () => timers.size,
    fire: () => {
      const due = [...timers.entries()];
      timers.clear();
      for (const [, fn] of due) fn();
    },
  };
}

async function seed(store: Store): Promise<void> {
  await store.groups.create({ name: 'k8s', autoDeleteAfterDays: 2 });
  await store.groups.create({ name: 'dc' });
  await store.provisioningKeys.create({ id: 'k1', group: 'k8s', secretHash: 'h', maxUsage: 5 });
  await store.provisioningKeys.create({ id: 'k2', group: 'dc', secretHash: 'h' });
  const connector = (id: string, group: string, keyId: string, ephemeral = false) =>
    store.connectors.create({
      id,
      group,
      keyId,
      ephemeral,
      certSerial: '1',
      certNotAfter: T0 + DAY,
    });
  for (const id of ['gone', 'ephemeral', 'live', 'recent']) {
    await store.provisioningKeys.consume('k1', { now: T0 });
    await connector(id, 'k8s', 'k1', id === 'ephemeral');
  }
  await connector('old-dc', 'dc', 'k2');
}

describe('connector auto-delete', () => {
  test('deletes connectors of auto-delete groups disconnected longer than the limit, and audits it', async () => {
    const time = manualClock();
    const store = await openMemoryStore({ clock: time.clock });
    const audit = new AuditLog({ store, logger: pino({ level: 'silent' }) });
    try {
      await seed(store);
      await store.connectors.update('gone', { lastSeenAt: T0 });
      const sweeper = new ConnectorAutoDelete({
        store,
        clock: time.clock,
        logger: pino({ level: 'silent' }),
        connected: () => ['live'],
        audit,
      });
      time.advance(2 * DAY);
      assert.deepEqual(await sweeper.sweep(), [], 'exactly the limit is not longer than it');
      await store.connectors.update('recent', { lastSeenAt: time.clock.now() });
      time.advance(1);
      assert.deepEqual((await sweeper.sweep()).sort(), ['ephemeral', 'gone']);
      const left = (await store.connectors.list()).map((c) => c.id).sort();
      assert.deepEqual(left, ['live', 'old-dc', 'recent'], 'live, recent and other groups stay');
      // The ephemeral connector's key use came back; the other deletion keeps its use counted.
      assert.equal((await store.provisioningKeys.get('k1'))?.usageCount, 3);
      assert.equal((await store.connectors.get('live'))?.lastSeenAt, time.clock.now());
      const records = await store.audit.list();
      assert.deepEqual(records.map((r) => [r.actor, r.kind, r.name]).sort(), [
        ['system:auto-delete', 'connector', 'ephemeral'],
        ['system:auto-delete', 'connector', 'gone'],
      ]);
      assert.equal((records[0]?.before as { group?: string }).group, 'k8s');
      // Two more days later the live one is still fine: each sweep marks it seen.
      time.advance(2 * DAY + 1);
      assert.deepEqual((await sweeper.sweep()).sort(), ['recent']);
    } finally {
      await store.close();
    }
  });

  test('sweeps on its timer until stopped', async () => {
    const time = manualClock();
    const store = await openMemoryStore({ clock: time.clock });
    try {
      await seed(store);
      const sweeper = new ConnectorAutoDelete({
        store,
        clock: time.clock,
        logger: pino({ level: 'silent' }),
        connected: () => [],
        intervalMs: 1000,
      });
      sweeper.start();
      assert.equal(time.pending(), 1);
      time.advance(3 * DAY);
      time.fire();
      // The sweep re-arms its timer when it finishes.
      for (let i = 0; i < 100 && time.pending() === 0; i++)
        await new Promise((r) => setImmediate(r));
      assert.equal(time.pending(), 1);
      assert.deepEqual(
        (await store.connectors.list()).map((c) => c.id),
        ['old-dc'],
      );
      await sweeper.stop();
      assert.equal(time.pending(), 0);
    } finally {
      await store.close();
    }
  });
});
