import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Message } from '../protocol/index.js';
import { openMemoryStore, type ChangeFeed, type Store } from '../store/index.js';
import { ConnectorDrains } from './connector-drain.js';
import { ConnectorRegistry, type ConnectorTunnel } from './connector-registry.js';

const logger = pino({ level: 'silent' });

/** A feed that loses every notification: only the periodic check brings drains here. */
const silentFeed: ChangeFeed = {
  scope: 'cluster',
  publish: () => Promise.resolve(),
  subscribe: () => () => undefined,
};

/** A tunnel with just what the registry and the drains touch; `sent` records control messages. */
function fakeTunnel(connectorId: string, sent: string[]): ConnectorTunnel {
  const session = { closed: false, goingAway: false, remoteGoingAway: false };
  return {
    connectorId,
    group: 'g',
    session,
    control: { send: (m: Message) => sent.push(m.type) },
    draining: false,
    activeSessions: 0,
  } as unknown as ConnectorTunnel;
}

async function until(check: () => boolean, what: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

describe('ConnectorDrains', () => {
  let store: Store;
  const started: ConnectorDrains[] = [];
  beforeEach(async () => {
    store = await openMemoryStore();
    await store.groups.create({ name: 'g' });
    await store.provisioningKeys.create({ id: 'k', group: 'g', secretHash: 'h' });
    for (const id of ['c1', 'c2']) {
      await store.connectors.create({
        id,
        group: 'g',
        keyId: 'k',
        ephemeral: false,
        certSerial: 's',
        certNotAfter: 1,
      });
    }
  });
  afterEach(async () => {
    for (const d of started.splice(0)) await d.stop();
    await store.close();
  });
  const start = async (registry: ConnectorRegistry, over: Store, pollMs = 1000) => {
    const drains = new ConnectorDrains(over, registry, { serverId: 'e1', pollMs, logger });
    started.push(drains);
    await drains.start();
    return drains;
  };

  test('a drain stored through another edge reaches a silent edge within the poll bound', async () => {
    const registry = new ConnectorRegistry();
    const sent: string[] = [];
    registry.add(fakeTunnel('c1', sent));
    await start(registry, { ...store, changes: silentFeed }, 200);
    assert.equal(registry.pick('g')?.connectorId, 'c1');
    await store.connectors.setDraining('c1', true);
    const took = await until(() => registry.pick('g') === undefined, 'drain', 1000);
    assert.ok(took <= 1000);
    assert.deepEqual(sent, ['drain']);
    await store.connectors.setDraining('c1', false);
    await until(() => registry.pick('g')?.connectorId === 'c1', 'undrain', 1000);
  });

  test('a drain announced on the feed is applied without waiting for the check', async () => {
    const registry = new ConnectorRegistry();
    registry.add(fakeTunnel('c1', []));
    // A check far beyond the test's wait: only the notification can do it.
    await start(registry, store, 60_000);
    const other = new ConnectorDrains(store, new ConnectorRegistry(), {
      serverId: 'e2',
      logger,
    });
    await store.connectors.setDraining('c1', true);
    other.changed('c1', true);
    await until(() => registry.get('c1')?.draining === true, 'drain', 500);
  });

  test('a tunnel that connects while its connector is drained starts draining', async () => {
    await store.connectors.setDraining('c2', true);
    const registry = new ConnectorRegistry();
    const drains = await start(registry, store);
    assert.equal(drains.isDraining('c2'), true);
    const sent: string[] = [];
    registry.add(fakeTunnel('c2', sent));
    assert.equal(registry.get('c2')?.draining, true);
    assert.deepEqual(sent, ['drain']);
  });

  test("undrain lifts only an admin's drain, never the connector's own", async () => {
    const registry = new ConnectorRegistry();
    const own = fakeTunnel('c1', []);
    own.draining = true; // the connector announced drain (it is stopping)
    registry.add(own);
    registry.add(fakeTunnel('c2', []));
    const drains = await start(registry, store);
    await store.connectors.setDraining('c2', true);
    assert.equal(drains.changed('c2', true), true);
    assert.equal(registry.get('c2')?.draining, true);
    await store.connectors.setDraining('c2', false);
    drains.changed('c2', false);
    drains.changed('c1', false);
    assert.equal(registry.get('c2')?.draining, false);
    assert.equal(registry.get('c1')?.draining, true);
    assert.equal(drains.changed('absent', true), false);
  });
});
