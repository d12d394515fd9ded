import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { openMemoryStore, type Store } from '../store/index.js';
import { ConfigWatcher } from './config-watcher.js';

const logger = pino({ level: 'silent' });
// The check timer is unref'd (it must not keep an edge alive): hold the loop open in tests.
let hold: NodeJS.Timeout;
before(() => {
  hold = setInterval(() => undefined, 1000);
});
after(() => clearInterval(hold));

function watcher(store: Store, pollMs = 60_000) {
  const events: string[] = [];
  let reloaded: () => void = () => undefined;
  const w = new ConfigWatcher(store, {
    serverId: 'edge-a',
    reload: () => {
      events.push('reload');
      reloaded();
      return Promise.resolve();
    },
    disconnect: (id) => events.push(`disconnect ${id}`),
    pollMs,
    logger,
  });
  const nextReload = () => new Promise<void>((resolve) => (reloaded = resolve));
  return { w, events, nextReload };
}

test('a config change announced by another edge reloads; its own announcements do not', async () => {
  const store = await openMemoryStore();
  const { w, events, nextReload } = watcher(store);
  await w.start();
  try {
    await w.announce();
    await store.changes.publish({ topic: 'edges', origin: 'edge-b' });
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(events, [], 'own config announcement and other topics are ignored');
    const reload = nextReload();
    await store.changes.publish({ topic: 'config', origin: 'edge-b' });
    await reload;
    assert.deepEqual(events, ['reload']);
  } finally {
    await w.stop();
    await store.close();
  }
});

test('a revocation announced by another edge cuts the connector here too', async () => {
  const store = await openMemoryStore();
  const { w, events } = watcher(store);
  await w.start();
  try {
    await store.changes.publish({ topic: 'disconnect:conn-1', origin: 'edge-b' });
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(events, ['disconnect conn-1']);
  } finally {
    await w.stop();
    await store.close();
  }
});

test('without any notification the periodic check finds a changed store and reloads once', async () => {
  const store = await openMemoryStore();
  const { w, events, nextReload } = watcher(store, 30);
  await w.start();
  try {
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(events, [], 'an unchanged store is not reloaded');
    const reload = nextReload();
    await store.groups.create({ name: 'written-elsewhere' });
    await reload;
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(events, ['reload'], 'the new state became the baseline');
  } finally {
    await w.stop();
    await store.close();
  }
});
