import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  endpointSliceObject,
  kubePaths,
  serviceObject,
  startFakeKubeApi,
} from '../support/fake-kube-api.js';
import { freePort, startTestEdge, tempDir } from '../harness/harness.js';
import { pollUntil } from './support/poll.js';
import { SpawnedProcess } from './support/spawned-process.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

test('the connector CLI discovers through --kubeconfig, serves probes, and drains on SIGTERM', async () => {
  const api = await startFakeKubeApi();
  const edge = await startTestEdge();
  const dir = await tempDir('postern-k8s-e2e-');
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    [
      'current-context: t',
      `clusters: [{name: c, cluster: {server: "${api.url}", certificate-authority: ca.crt}}]`,
      `users: [{name: u, user: {token: "${api.token}"}}]`,
      'contexts: [{name: t, context: {cluster: c, user: u, namespace: apps}}]',
    ].join('\n'),
  );
  await writeFile(join(dir, 'ca.crt'), api.caPem);
  const apps = kubePaths('apps');
  api.upsert(apps.services, serviceObject('apps', 'web', { expose: 'true' }));
  api.upsert(apps.slices, endpointSliceObject('apps', 'web', ['10.2.0.1']));
  const { value } = await edge.createKey('k8s-cli');
  const probePort = await freePort();
  const connector = new SpawnedProcess(
    'connector',
    process.execPath,
    [
      CLI,
      'connector',
      '--state-dir',
      join(dir, 'state'),
      '--ephemeral',
      '--kubernetes-discovery',
      '--kubeconfig',
      kubeconfig,
      '--probe-listen',
      `127.0.0.1:${probePort}`,
      '--drain-timeout',
      '1',
    ],
    { POSTERN_PROVISION_KEY: value, POSTERN_LOG_LEVEL: 'warn' },
  );
  try {
    const probes = `http://127.0.0.1:${probePort}`;
    await pollUntil(async () => ((await status(`${probes}/readyz`)) === 200 ? true : undefined), {
      timeoutMs: 15_000,
      what: 'the connector is ready (tunnel up)',
      last: () => connector.tail(),
    });
    assert.equal(await status(`${probes}/healthz`), 200);
    const listed = await pollUntil(
      async () => {
        const res = await edge.api<{ items: { service: string; addresses: string[] }[] }>(
          'GET',
          '/discovered-applications?namespace=apps',
        );
        return res.body.items.length === 1 ? res.body.items : undefined;
      },
      { timeoutMs: 10_000, what: 'the Service is listed', last: () => connector.tail() },
    );
    assert.deepEqual(
      listed.map((a) => [a.service, a.addresses]),
      [['web', ['10.2.0.1']]],
    );
    // The probe port serves Prometheus metrics too, discovery's state among them.
    const metrics = await (await fetch(`${probes}/metrics`)).text();
    assert.match(metrics, /^postern_connector_kubernetes_services 1$/m);
    assert.match(metrics, /^postern_connector_kubernetes_discovery_failing 0$/m);
    assert.match(metrics, /^postern_connector_tunnel_up\{server_id="[^"]+"\} 1$/m);
    assert.match(metrics, /^postern_connector_process_cpu_seconds_total /m);
    assert.ok(await connector.stop('SIGTERM', 10_000), 'the connector drains and exits');
    const { code } = await connector.exited;
    assert.equal(code, 0, connector.tail());
    assert.equal(await status(`${probes}/healthz`), 0, 'the probe port is closed');
  } finally {
    if (!connector.hasExited) await connector.stop('SIGKILL', 5000);
    await edge.stop();
    await api.close();
  }
});
