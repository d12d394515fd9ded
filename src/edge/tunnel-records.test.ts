import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { pino } from 'pino';
import { systemClock, type Clock } from '../core/index.js';
import { openMemoryStore, type Store } from '../store/index.js';
import { ConnectorRegistry, type ConnectorTunnel } from './connector-registry.js';
import { TunnelRecords } from './tunnel-records.js';

const logger = pino({ level: 'silent' });
const SERVER = 'edge-self';
let store: Store;

beforeEach(async () => {
  store = await openMemoryStore();
  await store.edges.renew({ serverId: SERVER, address: 'self:1', instance: 'i', ttlMs: 60_000 });
  await store.edges.renew({ serverId: 'edge-other', address: 'o:1', instance: 'o', ttlMs: 60_000 });
});
afterEach(async () => {
  await store.close();
});

/** A tunnel with only the fields the registry and the records read. */
function tunnel(connectorId: string, connectedAt = 1000): ConnectorTunnel {
  const remoteAddress = `192.0.2.1:${connectedAt}`;
  return { connectorId, group: 'g', remoteAddress, connectedAt } as unknown as ConnectorTunnel;
}

async function held(): Promise<string[]> {
  return (await store.tunnels.list()).map((t) => `${t.connectorId}@${t.serverId}:${t.since}`);
}

test('start replaces stale rows of this server id with the tunnels held now', async () => {
  await store.tunnels.up({ connectorId: 'gone', serverId: SERVER, remoteAddress: 'x', since: 1 });
  await store.tunnels.up({
    connectorId: 'c9',
    serverId: 'edge-other',
    remoteAddress: 'y',
    since: 2,
  });
  const registry = new ConnectorRegistry();
  registry.add(tunnel('c1', 500));
  const records = new TunnelRecords(store, registry, { serverId: SERVER, logger });
  await records.start();
  assert.deepEqual(await held(), ['c1@edge-self:500', 'c9@edge-other:2']);
  await records.stop();
});

test('tunnels coming, being replaced and going are written in order; stop removes this edge', async () => {
  const registry = new ConnectorRegistry();
  const records = new TunnelRecords(store, registry, { serverId: SERVER, logger });
  await records.start();
  await store.tunnels.up({
    connectorId: 'c9',
    serverId: 'edge-other',
    remoteAddress: 'y',
    since: 2,
  });
  const first = tunnel('c1', 1000);
  registry.add(first);
  registry.add(tunnel('c2', 1500));
  // A reconnect replaces c1's tunnel: removed (down) then added (up), in that order.
  registry.add(tunnel('c1', 2000));
  registry.remove(first); // no longer current: no event, the row stays
  registry.remove(registry.get('c2') ?? tunnel('missing'));
  await records.idle();
  assert.deepEqual(await held(), ['c1@edge-self:2000', 'c9@edge-other:2']);
  await records.stop();
  assert.deepEqual(await held(), ['c9@edge-other:2']);
  registry.add(tunnel('c3'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(await held(), ['c9@edge-other:2'], 'nothing is written after stop');
});

test('a failed write is repaired by rewriting every row after the retry delay', async () => {
  const timers: (() => void)[] = [];
  const clock: Clock = {
    ...systemClock,
    setTimeout: (fn) => {
      timers.push(fn);
      return {};
    },
    clearTimeout: () => undefined,
  };
  let failures = 1;
  const flaky: Store = {
    ...store,
    tunnels: {
      ...store.tunnels,
      list: (id) => store.tunnels.list(id),
      down: (c, s) => store.tunnels.down(c, s),
      releaseEdge: (s) => store.tunnels.releaseEdge(s),
      up: (t) => (failures-- > 0 ? Promise.reject(new Error('store down')) : store.tunnels.up(t)),
    },
  };
  const registry = new ConnectorRegistry();
  const records = new TunnelRecords(flaky, registry, { serverId: SERVER, logger, clock });
  await records.start();
  registry.add(tunnel('c1'));
  await records.idle();
  assert.deepEqual(await held(), []);
  assert.equal(timers.length, 1, 'one retry is scheduled');
  timers[0]?.();
  await records.idle();
  assert.deepEqual(await held(), ['c1@edge-self:1000']);
  await records.stop();
});
