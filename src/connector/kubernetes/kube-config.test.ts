import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inClusterConnection, kubeconfigConnection } from './kube-config.js';

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'postern-k8s-config-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('in cluster: the service address comes from the environment and the token is read on each call', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, 'token'), 'first\n');
    await writeFile(join(dir, 'ca.crt'), 'CA PEM');
    await writeFile(join(dir, 'namespace'), 'apps\n');
    const env = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' };
    const c = await inClusterConnection({ env, dir });
    assert.equal(c.server, 'https://[fd00::1]:6443');
    assert.equal(c.caPem, 'CA PEM');
    assert.equal(c.namespace, 'apps');
    assert.equal(await c.token?.(), 'first');
    // Bound service-account tokens are rotated by the kubelet: the new one is used.
    await writeFile(join(dir, 'token'), 'second');
    assert.equal(await c.token?.(), 'second');
  }));

test('outside a pod, in-cluster configuration fails with a coded error that says what to do', () =>
  withDir(async (dir) => {
    await assert.rejects(inClusterConnection({ env: {}, dir }), {
      code: 'POSTERN_ERR_KUBERNETES_CONFIG',
      message: /KUBERNETES_SERVICE_HOST.*--kubeconfig/s,
    });
    await assert.rejects(
      inClusterConnection({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, dir }),
      { code: 'POSTERN_ERR_KUBERNETES_CONFIG', message: /token/ },
    );
  }));

test('a kubeconfig gives the current context: server, inline CA, token, namespace; files relative to it', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, 'client.crt'), 'CERT');
    await writeFile(join(dir, 'client.key'), 'KEY');
    const path = join(dir, 'config');
    await writeFile(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: b',
        'clusters:',
        '  - name: one',
        '    cluster:',
        '      server: https://one.example:6443/',
        `      certificate-authority-data: ${Buffer.from('CA ONE').toString('base64')}`,
        'users:',
        '  - name: tok',
        '    user: { token: abc }',
        '  - name: cert',
        '    user: { client-certificate: client.crt, client-key: client.key }',
        'contexts:',
        '  - name: a',
        '    context: { cluster: one, user: tok, namespace: shop }',
        '  - name: b',
        '    context: { cluster: one, user: cert }',
      ].join('\n'),
    );
    const b = await kubeconfigConnection(path);
    assert.equal(b.server, 'https://one.example:6443');
    assert.equal(b.caPem, 'CA ONE');
    assert.equal(b.certPem, 'CERT');
    assert.equal(b.keyPem, 'KEY');
    assert.equal(b.token, undefined);
    assert.equal(b.namespace, 'default');
    const a = await kubeconfigConnection(path, { context: 'a' });
    assert.equal(await a.token?.(), 'abc');
    assert.equal(a.namespace, 'shop');
    await assert.rejects(kubeconfigConnection(path, { context: 'nope' }), {
      code: 'POSTERN_ERR_KUBERNETES_CONFIG',
      message: /no context named "nope"/,
    });
  }));

test('a kubeconfig user with an exec plugin is refused rather than run', () =>
  withDir(async (dir) => {
    const path = join(dir, 'config');
    await writeFile(
      path,
      'current-context: x\nclusters: [{name: c, cluster: {server: "https://c:1"}}]\n' +
        'users: [{name: u, user: {exec: {command: aws}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n',
    );
    await assert.rejects(kubeconfigConnection(path), {
      code: 'POSTERN_ERR_KUBERNETES_CONFIG',
      message: /exec/,
    });
  }));
