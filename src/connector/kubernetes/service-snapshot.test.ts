import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, parseMessage } from '../../protocol/index.js';
import { endpointSliceObject, serviceObject } from '../../../test/support/fake-kube-api.js';
import { isExposed, servicesSnapshot, snapshotMessages } from './service-snapshot.js';

test('only Services with postern.dev/expose (not "false") are discovered, with their ready addresses', () => {
  const services = [
    serviceObject('shop', 'web', { expose: 'true' }),
    serviceObject('shop', 'db', { expose: 'false' }),
    serviceObject('shop', 'cache'),
    serviceObject('auth', 'idp', { expose: 'yes', clusterIP: 'None' }),
  ];
  assert.deepEqual(services.map(isExposed), [true, false, false, true]);
  const slices = [
    endpointSliceObject('shop', 'web', ['10.0.0.2', '10.0.0.1'], ['10.0.0.9'], 'a'),
    endpointSliceObject('shop', 'web', ['10.0.0.3', '10.0.0.1'], [], 'b'),
    endpointSliceObject('other', 'web', ['10.9.9.9']),
    endpointSliceObject('auth', 'idp', ['10.1.0.1']),
  ];
  const snapshot = servicesSnapshot(services, slices);
  assert.deepEqual(
    snapshot.map((s) => [s.namespace, s.name, s.headless, s.clusterIp, s.addresses]),
    [
      ['auth', 'idp', true, undefined, ['10.1.0.1']],
      ['shop', 'web', false, '10.96.0.10', ['10.0.0.1', '10.0.0.2', '10.0.0.3']],
    ],
  );
  assert.deepEqual(snapshot[1]?.ports, [
    { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
  ]);
  assert.equal(snapshot[0]?.expose, 'yes');
});

test('a large snapshot is split into messages that each fit the control stream; only the first replaces', () => {
  const services = Array.from({ length: 1200 }, (_, i) =>
    serviceObject('big', `svc-${String(i).padStart(4, '0')}`, { expose: 'true' }),
  );
  const slices = services.map((s) =>
    endpointSliceObject(
      'big',
      s.metadata.name,
      Array.from({ length: 40 }, (_, j) => `10.${j}.${s.metadata.name.length}.${j + 1}`),
    ),
  );
  const snapshot = servicesSnapshot(services, slices);
  const messages = snapshotMessages(snapshot, 'partly forbidden');
  assert.ok(messages.length > 2, `split into ${messages.length}`);
  assert.deepEqual(
    messages.map((m) => m.replace),
    messages.map((_, i) => i === 0),
  );
  assert.equal(messages[0]?.error, 'partly forbidden');
  assert.ok(messages.slice(1).every((m) => m.error === undefined));
  const decoded = messages.map((m) =>
    parseMessage(JSON.parse(encodeMessage(m).subarray(4).toString())),
  );
  const names = decoded
    .flatMap((m) => (m?.type === 'kubernetes_services' ? m.services : []))
    .map((s) => s.name);
  assert.deepEqual(
    names,
    snapshot.map((s) => s.name),
  );
});

test('an empty snapshot is still one message, so a connector can withdraw everything', () => {
  const messages = snapshotMessages([]);
  assert.equal(messages.length, 1);
  assert.equal(messages[0]?.replace, true);
  assert.deepEqual(messages[0]?.services, []);
});
