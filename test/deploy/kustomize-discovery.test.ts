import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/repo-root.js';
import { validateKubeObject } from './kube-schema.js';
import { podSpecOf, renderKustomization } from './kustomize-render.js';
import { postureProblems } from './security-posture.js';

const VERSION = (
  JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }
).version;

test('the discovery component adds a read-only Role for Services and EndpointSlices and mounts the token', async () => {
  const list = await renderKustomization(join('overlays', 'connector-discovery'));
  const problems = (await Promise.all(list.map((o) => validateKubeObject(o)))).flat();
  assert.deepEqual(problems, []);
  assert.deepEqual(
    list.flatMap((o) => postureProblems(o, VERSION)),
    [],
  );
  const role = list.find((o) => o.kind === 'Role') as unknown as {
    metadata: { namespace: string; name: string };
    rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  };
  assert.equal(role.metadata.namespace, 'postern');
  assert.deepEqual(role.rules, [
    { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
    {
      apiGroups: ['discovery.k8s.io'],
      resources: ['endpointslices'],
      verbs: ['list', 'watch'],
    },
  ]);
  const binding = list.find((o) => o.kind === 'RoleBinding') as unknown as {
    roleRef: { name: string };
    subjects: { kind: string; name: string; namespace: string }[];
  };
  assert.equal(binding.roleRef.name, role.metadata.name);
  assert.deepEqual(binding.subjects, [
    { kind: 'ServiceAccount', name: 'postern-connector', namespace: 'postern' },
  ]);
  const account = list.find((o) => o.kind === 'ServiceAccount') as unknown as {
    automountServiceAccountToken: boolean;
  };
  assert.equal(account.automountServiceAccountToken, true);
  const deployment = list.find((o) => o.kind === 'Deployment');
  const pod = deployment && podSpecOf(deployment);
  assert.equal(pod?.automountServiceAccountToken, true);
  const env = pod?.containers[0]?.env ?? [];
  assert.equal(env.find((e) => e.name === 'POSTERN_KUBERNETES_DISCOVERY')?.value, '1');
  assert.ok(
    env.some((e) => e.name === 'POSTERN_PROVISION_KEY_FILE'),
    'the base env is kept',
  );
});
