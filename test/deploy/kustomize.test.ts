import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/repo-root.js';
import { validateKubeObject, type KubeObject } from './kube-schema.js';
import {
  OVERLAYS,
  podSpecOf,
  renderKustomization,
  type Container,
  type PodSpec,
} from './kustomize-render.js';
import { assertSecretFile, secretEnvVars } from './mounted-files.js';
import { postureProblems } from './security-posture.js';

const VERSION = (
  JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }
).version;

const rendered = new Map<string, KubeObject[]>();

before(async () => {
  for (const overlay of OVERLAYS) {
    rendered.set(overlay, await renderKustomization(join('overlays', overlay)));
  }
});

function objects(overlay: string): KubeObject[] {
  const list = rendered.get(overlay);
  assert.ok(list, `${overlay} rendered`);
  return list;
}

function find<T = Record<string, unknown>>(overlay: string, kind: string, name: string): T {
  const obj = objects(overlay).find(
    (o) => o.kind === kind && (o.metadata as { name?: string }).name === name,
  );
  assert.ok(obj, `${overlay} has ${kind}/${name}`);
  return obj as unknown as T;
}

function workload(overlay: string, name: string): { pod: PodSpec; container: Container } {
  const pod = podSpecOf(find<KubeObject>(overlay, 'Deployment', name));
  assert.ok(pod);
  assert.equal(pod.containers.length, 1);
  return { pod, container: pod.containers[0]! };
}

function envOf(c: Container, name: string): NonNullable<Container['env']>[number] | undefined {
  return c.env?.find((e) => e.name === name);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

for (const overlay of OVERLAYS) {
  test(`every object of the ${overlay} overlay is valid against the Kubernetes schema`, async () => {
    const list = objects(overlay);
    assert.ok(list.length >= 4, `${overlay} renders its objects`);
    const problems = (await Promise.all(list.map((o) => validateKubeObject(o)))).flat();
    assert.deepEqual(problems, []);
  });

  test(`every workload of the ${overlay} overlay keeps the security posture`, () => {
    const workloads = objects(overlay).filter((o) => podSpecOf(o));
    assert.equal(workloads.length, 1);
    assert.deepEqual(
      workloads.flatMap((o) => postureProblems(o, VERSION)),
      [],
    );
  });

  test(`every object of the ${overlay} overlay lives in the postern namespace`, () => {
    for (const o of objects(overlay)) {
      assert.equal((o.metadata as { namespace?: string }).namespace, 'postern', o.kind);
    }
  });

  test(`the ${overlay} base is namespace-agnostic`, async () => {
    const base = await renderKustomization(join('base', overlay));
    assert.ok(base.length > 0);
    for (const o of base) assert.equal((o.metadata as { namespace?: string }).namespace, undefined);
  });
}

test('schema validation rejects unknown fields and wrong types', async () => {
  const deployment = find<KubeObject>('edge', 'Deployment', 'postern-edge');
  const typo = clone(deployment);
  const sc = podSpecOf(typo)!.containers[0]!.securityContext as Record<string, unknown>;
  sc.readOnlyRootFileSystem = true;
  assert.match((await validateKubeObject(typo)).join('\n'), /readOnlyRootFileSystem/);
  const wrongType = clone(deployment);
  (podSpecOf(wrongType)!.securityContext as Record<string, unknown>).runAsNonRoot = 'yes';
  assert.match((await validateKubeObject(wrongType)).join('\n'), /runAsNonRoot must be boolean/);
  const unknownKind = { apiVersion: 'v1', kind: 'Nonsense', metadata: { name: 'x' } };
  assert.match((await validateKubeObject(unknownKind)).join('\n'), /no schema/);
});

test('the posture check reports latest images, kept capabilities and privileged containers', () => {
  const deployment = find<KubeObject>('connector', 'Deployment', 'postern-connector');
  const bad = clone(deployment);
  const c = podSpecOf(bad)!.containers[0]!;
  c.image = 'postern:latest';
  c.securityContext = {
    ...c.securityContext,
    privileged: true,
    capabilities: { add: ['NET_RAW'] },
  };
  const problems = postureProblems(bad, VERSION).join('\n');
  for (const expected of [/uses latest/, /is privileged/, /drop ALL/, /adds capabilities/]) {
    assert.match(problems, expected);
  }
  c.image = 'postern';
  assert.match(postureProblems(bad, VERSION).join('\n'), /has no tag/);
});

test('the edge runs one replica on its data volume, with probes on the admin port', () => {
  const deployment = find<{ spec: { replicas: number; strategy: { type: string } } }>(
    'edge',
    'Deployment',
    'postern-edge',
  );
  assert.equal(deployment.spec.replicas, 1, 'the embedded store has one writer');
  assert.equal(deployment.spec.strategy.type, 'Recreate');
  const { pod, container } = workload('edge', 'postern-edge');
  assert.deepEqual(container.args, ['edge']);
  const admin = container.ports?.find((p) => p.name === 'admin');
  const tunnel = container.ports?.find((p) => p.name === 'tunnel');
  assert.equal(admin?.containerPort, 9090);
  assert.equal(tunnel?.containerPort, 8443);
  assert.equal(envOf(container, 'POSTERN_ADMIN_LISTEN')?.value, `0.0.0.0:${admin.containerPort}`);
  assert.equal(envOf(container, 'POSTERN_TUNNEL_LISTEN')?.value, `0.0.0.0:${tunnel.containerPort}`);
  assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
  assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
  for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
    assert.ok(probe?.httpGet && [admin.name, admin.containerPort].includes(probe.httpGet.port));
  }
  const dataDir = envOf(container, 'POSTERN_DATA_DIR')?.value;
  const mount = container.volumeMounts?.find((m) => m.mountPath === dataDir);
  const volume = pod.volumes?.find((v) => v.name === mount?.name);
  const claim = volume?.persistentVolumeClaim?.claimName;
  assert.ok(claim, 'the data directory is a PersistentVolumeClaim');
  find('edge', 'PersistentVolumeClaim', claim);
  // The admin token Secret (docs step 1) is a read-only file, not a variable.
  assert.equal(envOf(container, 'POSTERN_ADMIN_TOKEN'), undefined);
  assertSecretFile(pod, container, 'POSTERN_ADMIN_TOKEN_FILE', {
    name: 'postern-admin',
    key: 'token',
  });
  // On SIGTERM: still serving for the grace, then the drain, all before the kubelet kills it.
  const grace = Number(envOf(container, 'POSTERN_SHUTDOWN_GRACE')?.value);
  const drain = Number(envOf(container, 'POSTERN_DRAIN_TIMEOUT')?.value);
  assert.ok(grace > 0 && drain > 0, 'a shutdown grace and a drain timeout are set');
  assert.ok(grace + drain < (pod.terminationGracePeriodSeconds ?? 30), 'both fit the grace period');
});

test('the edge tunnel is a pass-through network load balancer and the admin port stays inside', () => {
  type Service = {
    metadata: { annotations?: Record<string, string> };
    spec: {
      type: string;
      selector: Record<string, string>;
      externalTrafficPolicy?: string;
      ports: { port: number; targetPort: string }[];
    };
  };
  const tunnel = find<Service>('edge', 'Service', 'postern-edge-tunnel');
  assert.equal(tunnel.spec.type, 'LoadBalancer');
  assert.equal(
    tunnel.metadata.annotations?.['service.beta.kubernetes.io/aws-load-balancer-type'],
    'nlb',
  );
  assert.equal(tunnel.spec.externalTrafficPolicy, 'Local', 'keeps source addresses');
  assert.deepEqual(
    tunnel.spec.ports.map((p) => [p.port, p.targetPort]),
    [[8443, 'tunnel']],
  );
  const admin = find<Service>('edge', 'Service', 'postern-edge-admin');
  assert.equal(admin.spec.type, 'ClusterIP');
  assert.deepEqual(
    admin.spec.ports.map((p) => [p.port, p.targetPort]),
    [[9090, 'admin']],
  );
  const deployment = find<KubeObject>('edge', 'Deployment', 'postern-edge');
  const labels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } })
    .template.metadata.labels;
  for (const service of [tunnel, admin]) {
    for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(labels[k], v);
  }
  const policy = find<{
    spec: { policyTypes: string[]; ingress: { ports: { port: number }[] }[] };
  }>('edge', 'NetworkPolicy', 'postern-edge');
  assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
  const allowed = policy.spec.ingress.flatMap((r) => r.ports.map((p) => p.port)).sort();
  assert.deepEqual(allowed, [8443, 9090]);
});

test('connectors enroll from a Secret mounted as a file with ephemeral identities on emptyDir', () => {
  const { pod, container } = workload('connector', 'postern-connector');
  assert.equal(container.args?.[0], 'connector');
  assert.equal(envOf(container, 'POSTERN_PROVISION_KEY'), undefined, 'never in the environment');
  assertSecretFile(pod, container, 'POSTERN_PROVISION_KEY_FILE', {
    name: 'postern-provision-key',
    key: 'key',
  });
  const keyVolume = (
    pod.volumes as unknown as { secret?: { secretName: string; optional?: boolean } }[]
  ).find((v) => v.secret?.secretName === 'postern-provision-key');
  assert.notEqual(keyVolume?.secret?.optional, true, 'a missing key is an error');
  assert.equal(envOf(container, 'POSTERN_EPHEMERAL')?.value, '1');
  const stateDir = envOf(container, 'POSTERN_STATE_DIR')?.value;
  const mount = container.volumeMounts?.find((m) => m.mountPath === stateDir);
  assert.ok(pod.volumes?.find((v) => v.name === mount?.name)?.emptyDir !== undefined);
  const drain = Number(container.args?.[container.args.indexOf('--drain-timeout') + 1]);
  assert.ok(drain > 0 && (pod.terminationGracePeriodSeconds ?? 30) > drain, 'drain fits');
  // Probes hit the connector's own probe listener, on the port it is told to use.
  const probePort = container.ports?.find((p) => p.name === 'probes')?.containerPort;
  assert.ok(probePort && probePort >= 1024, 'an unprivileged probe port');
  assert.equal(envOf(container, 'POSTERN_PROBE_LISTEN')?.value, `0.0.0.0:${probePort}`);
  assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
  assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
  assert.equal(container.livenessProbe?.httpGet?.port, 'probes');
});

test('connectors autoscale from 2 at 80% CPU (no memory metric), with a disruption budget and egress only', () => {
  const deployment = find<{ spec: { replicas?: number } }>(
    'connector',
    'Deployment',
    'postern-connector',
  );
  assert.equal(deployment.spec.replicas, undefined, 'the autoscaler owns the replica count');
  const hpa = find<{
    spec: {
      scaleTargetRef: { kind: string; name: string };
      minReplicas: number;
      maxReplicas: number;
      metrics: { resource: { name: string; target: { averageUtilization: number } } }[];
    };
  }>('connector', 'HorizontalPodAutoscaler', 'postern-connector');
  assert.deepEqual(hpa.spec.scaleTargetRef, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: 'postern-connector',
  });
  assert.equal(hpa.spec.minReplicas, 2);
  assert.ok(hpa.spec.maxReplicas >= hpa.spec.minReplicas);
  assert.deepEqual(
    hpa.spec.metrics.map((m) => [m.resource.name, m.resource.target.averageUtilization]),
    [['cpu', 80]],
  );
  const { container } = workload('connector', 'postern-connector');
  assert.ok(container.securityContext && (container as { resources?: unknown }).resources);
  const pdb = find<{ spec: { selector: { matchLabels: Record<string, string> } } }>(
    'connector',
    'PodDisruptionBudget',
    'postern-connector',
  );
  const policy = find<{
    spec: {
      podSelector: { matchLabels: Record<string, string> };
      policyTypes: string[];
      ingress?: unknown[];
      egress: unknown[];
    };
  }>('connector', 'NetworkPolicy', 'postern-connector');
  assert.deepEqual(pdb.spec.selector.matchLabels, policy.spec.podSelector.matchLabels);
  assert.deepEqual([...policy.spec.policyTypes].sort(), ['Egress', 'Ingress']);
  assert.deepEqual(policy.spec.ingress ?? [], [], 'no ingress at all');
  assert.ok(policy.spec.egress.length > 0);
});

test('the single-replica edge base has no PodDisruptionBudget, so it never blocks a node drain', () => {
  // docs/kubernetes.md "Upgrade without downtime": add one in an overlay that runs several.
  assert.equal(
    find<{ spec: { replicas: number } }>('edge', 'Deployment', 'postern-edge').spec.replicas,
    1,
  );
  assert.deepEqual(
    objects('edge').filter((o) => o.kind === 'PodDisruptionBudget'),
    [],
  );
});

test('no container of the overlays reads a variable from a Secret: credentials are files', () => {
  for (const overlay of OVERLAYS) assert.deepEqual(secretEnvVars(objects(overlay)), [], overlay);
});

test('every POSTERN_ variable the manifests set is documented in docs/configuration.md', () => {
  const docs = readFileSync(join(repoRoot(), 'docs', 'configuration.md'), 'utf8');
  const names = OVERLAYS.flatMap((o) =>
    objects(o).flatMap((obj) => podSpecOf(obj)?.containers.flatMap((c) => c.env ?? []) ?? []),
  ).map((e) => e.name);
  assert.ok(names.length > 0);
  for (const name of names) assert.ok(docs.includes(`\`${name}`), `${name} is documented`);
});

test('edges and connectors spread softly over nodes and zones, selecting their own pods', () => {
  for (const [overlay, name] of [
    ['edge', 'postern-edge'],
    ['connector', 'postern-connector'],
  ] as const) {
    const deployment = find<{
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: {
          metadata: { labels: Record<string, string> };
          spec: {
            topologySpreadConstraints?: {
              topologyKey: string;
              whenUnsatisfiable: string;
              labelSelector: { matchLabels: Record<string, string> };
            }[];
          };
        };
      };
    }>(overlay, 'Deployment', name);
    const spread = deployment.spec.template.spec.topologySpreadConstraints ?? [];
    assert.deepEqual(
      spread.map((c) => c.topologyKey),
      ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'],
      name,
    );
    for (const c of spread) {
      assert.equal(c.whenUnsatisfiable, 'ScheduleAnyway', 'never blocks scheduling');
      for (const [k, v] of Object.entries(c.labelSelector.matchLabels))
        assert.equal(deployment.spec.template.metadata.labels[k], v, `selects its own pods: ${k}`);
    }
  }
});
