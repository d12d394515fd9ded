import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMessage, type KubernetesService } from '../protocol/index.js';
import { systemClock, type Clock } from '../core/index.js';
import { DiscoveredApplicationRegistry } from './discovered-application-registry.js';

function service(namespace: string, name: string): KubernetesService {
  return {
    namespace,
    name,
    type: 'ClusterIP',
    headless: false,
    expose: 'true',
    ports: [],
    addresses: [],
  };
}

function clockAt(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  return { ...systemClock, now: () => now, advance: (ms) => void (now += ms) };
}

const a = { connectorId: 'c-a', group: 'g1' };
const b = { connectorId: 'c-b', group: 'g2' };

test('a snapshot replaces the connector’s previous one; later parts add to it', () => {
  const registry = new DiscoveredApplicationRegistry();
  registry.apply(a, makeMessage({ type: 'kubernetes_services', services: [service('x', 'old')] }));
  registry.apply(a, makeMessage({ type: 'kubernetes_services', services: [service('x', 'one')] }));
  registry.apply(
    a,
    makeMessage({ type: 'kubernetes_services', replace: false, services: [service('x', 'two')] }),
  );
  registry.apply(b, makeMessage({ type: 'kubernetes_services', services: [service('a', 'one')] }));
  const { items } = registry.list();
  assert.deepEqual(
    items.map((i) => [i.namespace, i.service, i.connector, i.group]),
    [
      ['a', 'one', 'c-b', 'g2'],
      ['x', 'one', 'c-a', 'g1'],
      ['x', 'two', 'c-a', 'g1'],
    ],
  );
});

test('errors are listed per connected connector and cleared by the next snapshot without one', () => {
  const registry = new DiscoveredApplicationRegistry();
  registry.apply(a, makeMessage({ type: 'kubernetes_services', services: [], error: '403' }));
  assert.deepEqual(registry.list().errors, [{ connector: 'c-a', group: 'g1', error: '403' }]);
  registry.apply(a, makeMessage({ type: 'kubernetes_services', services: [] }));
  assert.deepEqual(registry.list().errors, []);
});

test('a disconnected connector’s applications stay, marked, until the retention passes', () => {
  const clock = clockAt(1_000_000);
  const registry = new DiscoveredApplicationRegistry({ clock, retentionMs: 60_000 });
  registry.apply(a, makeMessage({ type: 'kubernetes_services', services: [service('x', 's')] }));
  clock.advance(5000);
  assert.equal(registry.list().items[0]?.last_seen_at, new Date(1_005_000).toISOString());
  registry.disconnected('c-a');
  clock.advance(30_000);
  const item = registry.list().items[0];
  assert.equal(item?.connected, false);
  assert.equal(item?.last_seen_at, new Date(1_005_000).toISOString());
  clock.advance(30_001);
  assert.deepEqual(registry.list().items, []);
});
