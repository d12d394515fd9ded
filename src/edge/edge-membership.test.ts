import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { openEmbeddedStore, type Store } from '../store/index.js';
import { EdgeMembership, randomServerId, type EdgeView } from './edge-membership.js';

const logger = pino({ level: 'silent' });
let root = '';
let n = 0;
// Renewal timers are unref'd (they must not keep an edge alive): hold the loop open in tests.
let hold: NodeJS.Timeout;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'postern-membership-'));
  hold = setInterval(() => undefined, 1000);
});
after(async () => {
  clearInterval(hold);
  await rm(root, { recursive: true, force: true });
});

/** Two store handles on one database file, as two edges of one set would have. */
async function sharedStores(): Promise<[Store, Store]> {
  const dataDir = join(root, `db-${++n}`);
  return [await openEmbeddedStore({ dataDir }), await openEmbeddedStore({ dataDir })];
}

function nextChange(member: EdgeMembership): Promise<EdgeView> {
  return new Promise((resolve) => member.once('change', resolve));
}

test('edges that join and leave are seen by the others at once, without waiting a renewal', async () => {
  const [sa, sb] = await sharedStores();
  const slow = { leaseTtlMs: 60_000, renewMs: 60_000, logger };
  const a = new EdgeMembership(sa, { serverId: 'edge-a', address: 'a:1', ...slow });
  const b = new EdgeMembership(sb, { serverId: 'edge-b', address: 'b:1', ...slow });
  try {
    await a.start();
    assert.deepEqual(a.view, {
      serverId: 'edge-a',
      serverCount: 1,
      peers: [{ serverId: 'edge-a', address: 'a:1' }],
    });
    const joined = nextChange(a);
    await b.start();
    assert.deepEqual((await joined).peers, [
      { serverId: 'edge-a', address: 'a:1' },
      { serverId: 'edge-b', address: 'b:1' },
    ]);
    assert.equal(b.view.serverCount, 2);
    const left = nextChange(a);
    await b.stop();
    assert.equal((await left).serverCount, 1);
    assert.deepEqual(
      (await sa.edges.live()).map((l) => l.serverId),
      ['edge-a'],
    );
  } finally {
    await a.stop();
    await Promise.all([sa.close(), sb.close()]);
  }
});

test('an edge restarted with the id of its crashed predecessor waits for that lease to expire', async () => {
  const [store] = await sharedStores();
  await store.edges.renew({ serverId: 'edge-a', address: 'a:1', instance: 'crashed', ttlMs: 400 });
  const restarted = new EdgeMembership(store, {
    serverId: 'edge-a',
    address: 'a:1',
    leaseTtlMs: 400,
    logger,
  });
  try {
    const started = Date.now();
    await restarted.start();
    const waited = Date.now() - started;
    assert.ok(waited >= 300 && waited < 1500, `took the lease after ${waited} ms`);
    assert.notEqual((await store.edges.live())[0]?.instance, 'crashed');
  } finally {
    await restarted.stop();
    await store.close();
  }
});

test('a crashed edge leaves the set when its lease expires, and is pruned', async () => {
  const [store] = await sharedStores();
  const a = new EdgeMembership(store, {
    serverId: 'edge-a',
    address: 'a:1',
    leaseTtlMs: 600,
    renewMs: 50,
    logger,
  });
  try {
    // An edge that took a short lease and then died without releasing it.
    await store.edges.renew({ serverId: 'edge-x', address: 'x:1', instance: 'dead', ttlMs: 300 });
    await a.start();
    assert.equal(a.view.serverCount, 2);
    const started = Date.now();
    const view = await nextChange(a);
    assert.equal(view.serverCount, 1);
    assert.ok(Date.now() - started < 1000, 'gone within the TTL plus one renewal period');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await store.edges.prune(), 0, 'the expired lease was already pruned');
  } finally {
    await a.stop();
    await store.close();
  }
});

test('a second edge with a live id is refused after one TTL; random ids differ', async () => {
  const [sa, sb] = await sharedStores();
  const a = new EdgeMembership(sa, { serverId: 'same', address: 'a:1', leaseTtlMs: 300, logger });
  const b = new EdgeMembership(sb, { serverId: 'same', address: 'b:1', leaseTtlMs: 300, logger });
  try {
    await a.start();
    await assert.rejects(b.start(), { code: 'POSTERN_ERR_SERVER_ID_TAKEN' });
    assert.equal((await sa.edges.live())[0]?.address, 'a:1');
    assert.notEqual(randomServerId(), randomServerId());
  } finally {
    await b.stop();
    await a.stop();
    await Promise.all([sa.close(), sb.close()]);
  }
  const reopened = await openEmbeddedStore({ dataDir: join(root, `db-${n}`) });
  assert.equal((await reopened.edges.live()).length, 0, 'stop released the lease');
  await reopened.close();
});
