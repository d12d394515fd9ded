import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Backoff } from '../../src/core/index.js';
import { kubeconfigConnection } from '../../src/connector/index.js';
import {
  endpointSliceObject,
  kubePaths,
  serviceObject,
  startFakeKubeApi,
  type FakeKubeApi,
} from '../support/fake-kube-api.js';
import {
  eventually,
  startTestConnector,
  startTestEdge,
  tempDir,
  type TestEdge,
} from '../harness/harness.js';

interface Listing {
  items: {
    source: string;
    namespace: string;
    service: string;
    headless: boolean;
    ports: { port: number; target_port?: number | string }[];
    addresses: string[];
    connector: string;
    group: string;
    connected: boolean;
    last_seen_at: string;
  }[];
  errors: { connector: string; error: string }[];
}

let api: FakeKubeApi;
let edge: TestEdge;
let kubeconfig: string;

before(async () => {
  api = await startFakeKubeApi();
  edge = await startTestEdge();
  const dir = await tempDir('postern-k8s-it-');
  kubeconfig = join(dir, 'kubeconfig');
  // The same file kubectl reads: the CA inline, the token of a service account.
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: test',
      'clusters:',
      `  - name: fake\n    cluster:\n      server: ${api.url}`,
      `      certificate-authority-data: ${Buffer.from(api.caPem).toString('base64')}`,
      `users:\n  - name: sa\n    user:\n      token: ${api.token}`,
      'contexts:\n  - name: test\n    context: { cluster: fake, user: sa, namespace: shop }',
    ].join('\n'),
  );
});

after(async () => {
  await edge.stop();
  await api.close();
});

async function listing(query = ''): Promise<Listing> {
  const res = await edge.api<Listing>('GET', `/discovered-applications${query}`);
  assert.equal(res.status, 200);
  return res.body;
}

test('annotated Services and their ready endpoints reach the edge listing, end to end', async () => {
  const shop = kubePaths('shop');
  const auth = kubePaths('auth');
  api.upsert(shop.services, serviceObject('shop', 'web', { expose: 'true' }));
  api.upsert(shop.services, serviceObject('shop', 'internal'));
  api.upsert(shop.slices, endpointSliceObject('shop', 'web', ['10.1.0.1'], ['10.1.0.9']));
  api.upsert(auth.services, serviceObject('auth', 'idp', { expose: 'true', clusterIP: 'None' }));
  api.forbidden.add('secret');
  const { value } = await edge.createKey('k8s');
  const connection = await kubeconfigConnection(kubeconfig);
  const connector = await startTestConnector({
    provisionKey: value,
    kubernetesDiscovery: {
      connection,
      namespaces: ['shop', 'auth', 'secret'],
      debounceMs: 20,
      backoff: () => new Backoff({ initialMs: 50, maxMs: 200 }),
    },
  });
  try {
    const id = connector.identity!.connectorId;
    const first = await eventually<Listing | undefined>(async () => {
      const l = await listing();
      return l.items.length === 2 && l.errors.length === 1 ? l : undefined;
    }, 'both Services listed');
    assert.ok(first);
    assert.deepEqual(
      first.items.map((a) => [a.source, a.namespace, a.service, a.headless, a.addresses]),
      [
        ['kubernetes', 'auth', 'idp', true, []],
        ['kubernetes', 'shop', 'web', false, ['10.1.0.1']],
      ],
    );
    const web = first.items[1]!;
    assert.equal(web.connector, id);
    assert.equal(web.group, 'k8s');
    assert.equal(web.connected, true);
    assert.deepEqual(
      web.ports.map((p) => [p.port, p.target_port]),
      [[80, 8080]],
    );
    assert.ok(Math.abs(Date.parse(web.last_seen_at) - Date.now()) < 60_000);
    // The namespace without permission is reported, the others still work.
    assert.equal(first.errors[0]?.connector, id);
    assert.match(first.errors[0]?.error ?? '', /403/);

    // Watch events: a pod becomes ready, the annotation goes away from another Service.
    api.upsert(shop.slices, endpointSliceObject('shop', 'web', ['10.1.0.1', '10.1.0.2']));
    api.upsert(auth.services, serviceObject('auth', 'idp', { expose: 'false', clusterIP: 'None' }));
    await eventually(async () => {
      const l = await listing();
      return l.items.length === 1 && l.items[0]?.addresses.length === 2;
    }, 'the watch events applied');

    // The API server compacts its history and drops the watches: 410 Gone, list again.
    api.compact();
    api.upsert(auth.services, serviceObject('auth', 'idp', { expose: 'true', clusterIP: 'None' }));
    api.compact();
    api.endWatches();
    await eventually(async () => (await listing()).items.length === 2, 'relisted after 410');
    assert.deepEqual(
      (await listing('?namespace=shop')).items.map((a) => a.service),
      ['web'],
    );
    assert.ok(
      api.requests.every((r) => r.authorized),
      'every request carried the token',
    );

    // The connector goes away: its applications stay listed, marked disconnected.
    await connector.stop({ drainTimeoutMs: 100 });
    const gone = await eventually<Listing | undefined>(async () => {
      const l = await listing();
      return l.items.every((a) => !a.connected) ? l : undefined;
    }, 'marked disconnected');
    assert.ok(gone);
    assert.equal(gone.items.length, 2);
    assert.deepEqual(gone.errors, []);
  } finally {
    await connector.stop({ drainTimeoutMs: 0 }).catch(() => undefined);
  }
});

test('the listing answers an empty list when no connector discovers anything', async () => {
  const fresh = await startTestEdge();
  try {
    const res = await fresh.api<Listing>('GET', '/discovered-applications');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { items: [], errors: [] });
  } finally {
    await fresh.stop();
  }
});
