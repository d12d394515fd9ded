import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from '../../src/config/index.js';
import { repoRoot } from '../support/repo-root.js';
import { createSelfSignedCert } from '../support/tls-cert.js';
import { helmUnavailable, renderChart } from './helm-render.js';
import { validateKubeObject, type KubeObject } from './kube-schema.js';
import { podSpecOf, type Container, type PodSpec } from './kustomize-render.js';
import { assertSecretFile, secretEnvVars } from './mounted-files.js';
import { postureProblems } from './security-posture.js';

// Rendering tests: `helm template` with the chart's values, every object checked against the
// Kubernetes schema and the security posture. Without helm they report themselves skipped.

const VERSION = (
  JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }
).version;
type Values = Record<string, unknown>;

let helmMissing: string | undefined;
before(async () => {
  helmMissing = await helmUnavailable();
});

/**
 * Runs `body` with helm, or reports the test skipped with the reason (never passed). On CI
 * (CI=true) a missing helm fails instead: scripts/setup-test-host.sh installs it there.
 */
function withHelm(name: string, body: () => Promise<void>): void {
  test(name, async (t: TestContext) => {
    if (helmMissing !== undefined) {
      if (process.env['CI'] === 'true') {
        assert.fail(`${helmMissing} (CI: run scripts/setup-test-host.sh, which installs it)`);
      }
      t.skip(helmMissing);
      return;
    }
    await body();
  });
}

function find(list: KubeObject[], kind: string, name: string): Values {
  const obj = list.find((o) => o.kind === kind && (o.metadata as { name?: string }).name === name);
  assert.ok(obj, `${kind}/${name} is rendered`);
  return obj;
}

function containerOf(obj: Values): { pod: PodSpec; container: Container } {
  const pod = podSpecOf(obj as KubeObject);
  assert.ok(pod);
  return { pod, container: pod.containers[0]! };
}

function env(c: Container, name: string) {
  return c.env?.find((e) => e.name === name);
}

/** Every object valid against the Kubernetes schema, every workload keeping the posture. */
async function checkAll(list: KubeObject[]): Promise<void> {
  // CRDs (ServiceMonitor) have no schema in kubernetes-models; they are checked by hand.
  const builtIn = list.filter((o) => !o.apiVersion.startsWith('monitoring.coreos.com/'));
  const problems = (await Promise.all(builtIn.map((o) => validateKubeObject(o)))).flat();
  assert.deepEqual(problems, []);
  assert.deepEqual(
    list.flatMap((o) => postureProblems(o, VERSION)),
    [],
  );
  for (const o of list) {
    const ns = (o.metadata as { namespace?: string }).namespace;
    if (o.kind !== 'Role' && o.kind !== 'RoleBinding') assert.equal(ns, undefined, o.kind);
  }
}

const kinds = (list: KubeObject[]) =>
  list.map((o) => `${o.kind}/${(o.metadata as { name: string }).name}`).sort();

withHelm(
  'the defaults render the edge alone: LoadBalancer tunnel with its annotations, probes, a volume',
  async () => {
    const list = await renderChart({});
    await checkAll(list);
    assert.ok(!list.some((o) => JSON.stringify(o.metadata).includes('connector')), 'no connector');
    const tunnel = find(list, 'Service', 'rel-postern-edge-tunnel') as {
      metadata: { annotations: Record<string, string> };
      spec: { type: string; externalTrafficPolicy: string; ports: { port: number }[] };
    };
    assert.equal(tunnel.spec.type, 'LoadBalancer');
    assert.equal(
      tunnel.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-type'],
      'nlb',
    );
    assert.equal(tunnel.spec.externalTrafficPolicy, 'Local');
    const deployment = find(list, 'Deployment', 'rel-postern-edge');
    const { container } = containerOf(deployment);
    assert.equal(container.image, `postern:${VERSION}`);
    assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal((deployment['spec'] as { replicas: number }).replicas, 1);
    find(list, 'PersistentVolumeClaim', 'rel-postern-edge-data');
    find(list, 'NetworkPolicy', 'rel-postern-edge');
    find(list, 'PodDisruptionBudget', 'rel-postern-edge');
    assert.equal(env(container, 'POSTERN_STORE'), undefined);
    // On SIGTERM: still serving for the grace, then the drain, before the kubelet kills it.
    const { pod } = containerOf(deployment);
    const shutdown = Number(env(container, 'POSTERN_SHUTDOWN_GRACE')?.value);
    const drain = Number(env(container, 'POSTERN_DRAIN_TIMEOUT')?.value);
    assert.deepEqual([shutdown, drain], [5, 15]);
    assert.ok(
      shutdown + drain < (pod.terminationGracePeriodSeconds ?? 30),
      'fits the grace period',
    );
  },
);

withHelm(
  'the connector renders alone from an existing Secret: key file, ephemeral, probes, HPA 2+ at 80% CPU only, PDB',
  async () => {
    const list = await renderChart({
      edge: { enabled: false },
      connector: { enabled: true, existingSecret: 'site-key' },
    });
    await checkAll(list);
    assert.ok(!list.some((o) => (o.metadata as { name: string }).name.includes('edge')), 'no edge');
    assert.ok(!list.some((o) => o.kind === 'Secret'), 'the key stays in its own Secret');
    const deployment = find(list, 'Deployment', 'rel-postern-connector');
    const { pod, container } = containerOf(deployment);
    assert.equal((deployment['spec'] as { replicas?: number }).replicas, undefined, 'HPA owns it');
    assert.equal(env(container, 'POSTERN_PROVISION_KEY'), undefined, 'not in the environment');
    assertSecretFile(pod, container, 'POSTERN_PROVISION_KEY_FILE', {
      name: 'site-key',
      key: 'key',
    });
    assert.deepEqual(secretEnvVars(list), []);
    assert.equal(env(container, 'POSTERN_EPHEMERAL')?.value, '1');
    assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
    const probePort = container.ports?.find((p) => p.name === 'probes')?.containerPort;
    assert.equal(env(container, 'POSTERN_PROBE_LISTEN')?.value, `0.0.0.0:${probePort}`);
    assert.equal(pod.automountServiceAccountToken, false, 'no API token without discovery');
    const hpa = find(list, 'HorizontalPodAutoscaler', 'rel-postern-connector') as {
      spec: {
        minReplicas: number;
        metrics: { resource: { name: string; target: { averageUtilization: number } } }[];
      };
    };
    assert.equal(hpa.spec.minReplicas, 2);
    // No memory metric by default: a Node.js heap rarely shrinks, so it would hold replicas.
    assert.deepEqual(
      hpa.spec.metrics.map((m) => [m.resource.name, m.resource.target.averageUtilization]),
      [['cpu', 80]],
    );
    find(list, 'PodDisruptionBudget', 'rel-postern-connector');
    const drain = Number(container.args?.[container.args.indexOf('--drain-timeout') + 1]);
    assert.ok((pod.terminationGracePeriodSeconds ?? 0) > drain, 'the drain fits the grace period');
  },
);

withHelm(
  'multiConnector renders one Deployment, autoscaler, budget and key per group',
  async () => {
    const list = await renderChart({
      edge: { enabled: false },
      connector: {
        enabled: true,
        multiConnector: {
          enabled: true,
          groups: [
            { name: 'site-a', existingSecret: 'key-a' },
            {
              name: 'site-b',
              provisionKey: '1|edge.example.com:8443|kid.secret',
              autoscaling: { maxReplicas: 20 },
            },
          ],
        },
      },
    });
    await checkAll(list);
    const names = kinds(list).filter((k) =>
      /Deployment|HorizontalPodAutoscaler|PodDisruptionBudget|Secret/.test(k),
    );
    assert.deepEqual(names, [
      'Deployment/rel-postern-connector-site-a',
      'Deployment/rel-postern-connector-site-b',
      'HorizontalPodAutoscaler/rel-postern-connector-site-a',
      'HorizontalPodAutoscaler/rel-postern-connector-site-b',
      'PodDisruptionBudget/rel-postern-connector-site-a',
      'PodDisruptionBudget/rel-postern-connector-site-b',
      'Secret/rel-postern-connector-site-b',
    ]);
    const keyOf = (name: string, secret: string) => {
      const { pod, container } = containerOf(find(list, 'Deployment', name));
      assertSecretFile(pod, container, 'POSTERN_PROVISION_KEY_FILE', { name: secret, key: 'key' });
    };
    keyOf('rel-postern-connector-site-a', 'key-a');
    keyOf('rel-postern-connector-site-b', 'rel-postern-connector-site-b');
    assert.deepEqual(secretEnvVars(list), []);
    const secret = find(list, 'Secret', 'rel-postern-connector-site-b') as {
      stringData: { key: string };
    };
    assert.equal(secret.stringData.key, '1|edge.example.com:8443|kid.secret');
    const hpaB = find(list, 'HorizontalPodAutoscaler', 'rel-postern-connector-site-b') as {
      spec: { maxReplicas: number; minReplicas: number };
    };
    assert.deepEqual([hpaB.spec.minReplicas, hpaB.spec.maxReplicas], [2, 20]);
    // Each budget selects its own group's pods only.
    const selectors = ['site-a', 'site-b'].map(
      (g) =>
        (
          find(list, 'PodDisruptionBudget', `rel-postern-connector-${g}`)['spec'] as {
            selector: { matchLabels: Record<string, string> };
          }
        ).selector.matchLabels,
    );
    assert.notDeepEqual(selectors[0], selectors[1]);
  },
);

withHelm(
  "a group's own autoscaling.enabled: false gives it a fixed replica count and no autoscaler",
  async () => {
    const list = await renderChart({
      edge: { enabled: false },
      connector: {
        enabled: true,
        multiConnector: {
          enabled: true,
          groups: [
            {
              name: 'fixed',
              existingSecret: 'key-a',
              replicas: 3,
              autoscaling: { enabled: false },
            },
            { name: 'scaled', existingSecret: 'key-b' },
          ],
        },
      },
    });
    await checkAll(list);
    const replicas = (name: string) =>
      (find(list, 'Deployment', name)['spec'] as { replicas?: number }).replicas;
    assert.equal(replicas('rel-postern-connector-fixed'), 3);
    assert.equal(replicas('rel-postern-connector-scaled'), undefined, 'HPA owns it');
    assert.deepEqual(
      kinds(list).filter((k) => k.startsWith('HorizontalPodAutoscaler/')),
      ['HorizontalPodAutoscaler/rel-postern-connector-scaled'],
    );
  },
);

withHelm(
  'edges run several replicas over PostgreSQL with a shared CA, rolling one at a time',
  async () => {
    const list = await renderChart({
      edge: {
        replicas: 3,
        advertiseAddress: 'postern.example.com:8443',
        store: { postgres: { existingSecret: 'pg' } },
        ca: { existingSecret: 'postern-ca' },
        adminToken: { existingSecret: 'postern-admin' },
        tokenSigningKey: { existingSecret: 'postern-token-key', key: 'key.pem' },
      },
    });
    await checkAll(list);
    const deployment = find(list, 'Deployment', 'rel-postern-edge');
    const spec = deployment['spec'] as {
      replicas: number;
      strategy: { type: string; rollingUpdate: { maxUnavailable: number } };
    };
    assert.equal(spec.replicas, 3);
    assert.equal(spec.strategy.type, 'RollingUpdate');
    assert.equal(spec.strategy.rollingUpdate.maxUnavailable, 0);
    const { pod, container } = containerOf(deployment);
    // Credentials are read-only files, never variables (readable in /proc, inherited by workers).
    assert.deepEqual(secretEnvVars(list), []);
    assert.equal(env(container, 'POSTERN_STORE'), undefined);
    assert.equal(env(container, 'POSTERN_ADMIN_TOKEN'), undefined);
    assertSecretFile(pod, container, 'POSTERN_STORE_FILE', { name: 'pg', key: 'url' });
    assertSecretFile(pod, container, 'POSTERN_ADMIN_TOKEN_FILE', {
      name: 'postern-admin',
      key: 'token',
    });
    assert.equal(env(container, 'POSTERN_ADVERTISE_ADDRESS')?.value, 'postern.example.com:8443');
    // Every edge signs user tokens with the one key from the Secret.
    const keyFile = env(container, 'POSTERN_TOKEN_SIGNING_KEY')?.value;
    const volumes = pod.volumes as unknown as {
      name: string;
      secret?: { secretName: string; items: { key: string; path: string }[] };
    }[];
    const keyVolume = volumes.find((v) => v.secret?.secretName === 'postern-token-key');
    assert.deepEqual(keyVolume?.secret?.items, [{ key: 'key.pem', path: 'token-signing-key.pem' }]);
    const keyMount = container.volumeMounts?.find((m) => m.name === keyVolume?.name);
    assert.equal(keyFile, `${keyMount?.mountPath}/token-signing-key.pem`);
    assert.ok(
      !list.some((o) => o.kind === 'PersistentVolumeClaim'),
      'no volume: the state is in PostgreSQL',
    );
    assert.equal(
      pod.initContainers?.[0]?.name,
      'ca',
      'the shared CA is copied into the data directory',
    );
    await assert.rejects(renderChart({ edge: { replicas: 2 } }), /postgres/);
    await assert.rejects(
      renderChart({ edge: { replicas: 2, store: { postgres: { existingSecret: 'pg' } } } }),
      /same CA/,
    );
    await assert.rejects(
      renderChart({
        edge: {
          replicas: 2,
          store: { postgres: { existingSecret: 'pg' } },
          ca: { existingSecret: 'postern-ca' },
        },
      }),
      /same admin token/,
    );
    await assert.rejects(
      renderChart({
        edge: {
          replicas: 2,
          store: { postgres: { existingSecret: 'pg' } },
          ca: { existingSecret: 'postern-ca' },
          adminToken: { existingSecret: 'postern-admin' },
        },
      }),
      /same token signing key/,
    );
    // One edge over PostgreSQL too: its data directory is not kept, so a generated CA would
    // change at every restart.
    await assert.rejects(
      renderChart({ edge: { store: { postgres: { existingSecret: 'pg' } } } }),
      /same CA/,
    );
  },
);

withHelm(
  'NodePort exposes the tunnel and public ports at fixed node ports, and the policy opens them',
  async () => {
    const list = await renderChart({
      edge: {
        service: {
          type: 'NodePort',
          nodePorts: { tunnel: 30443, https: 30444 },
          publicPorts: [{ name: 'https', port: 443, targetPort: 10443 }],
        },
      },
    });
    await checkAll(list);
    const svc = find(list, 'Service', 'rel-postern-edge-tunnel') as {
      spec: { type: string; ports: { name: string; port: number; nodePort?: number }[] };
    };
    assert.equal(svc.spec.type, 'NodePort');
    assert.deepEqual(
      svc.spec.ports.map((p) => [p.name, p.port, p.nodePort]),
      [
        ['tunnel', 8443, 30443],
        ['https', 443, 30444],
      ],
    );
    const policy = find(list, 'NetworkPolicy', 'rel-postern-edge') as {
      spec: { ingress: { ports: { port: number }[] }[] };
    };
    assert.deepEqual(
      policy.spec.ingress[0]?.ports.map((p) => p.port),
      [8443, 10443],
    );
  },
);

withHelm(
  'discovery renders a minimal Role per allowed namespace and mounts the token',
  async () => {
    const list = await renderChart({
      edge: { enabled: false },
      connector: {
        enabled: true,
        existingSecret: 'k',
        kubernetesDiscovery: { enabled: true, namespaces: ['shop', 'auth'] },
      },
    });
    await checkAll(list);
    const roles = list.filter((o) => o.kind === 'Role') as unknown as {
      metadata: { namespace: string };
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    }[];
    assert.deepEqual(
      roles.map((r) => r.metadata.namespace),
      ['shop', 'auth'],
    );
    for (const role of roles) {
      assert.deepEqual(role.rules, [
        { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
        {
          apiGroups: ['discovery.k8s.io'],
          resources: ['endpointslices'],
          verbs: ['list', 'watch'],
        },
      ]);
    }
    const bindings = list.filter((o) => o.kind === 'RoleBinding') as unknown as {
      subjects: { name: string; namespace: string }[];
    }[];
    assert.deepEqual(
      bindings.map((b) => b.subjects),
      [
        [{ kind: 'ServiceAccount', name: 'rel-postern-connector', namespace: 'postern' }],
        [{ kind: 'ServiceAccount', name: 'rel-postern-connector', namespace: 'postern' }],
      ],
    );
    const { pod, container } = containerOf(find(list, 'Deployment', 'rel-postern-connector'));
    assert.equal(pod.automountServiceAccountToken, true);
    assert.equal(env(container, 'POSTERN_KUBERNETES_DISCOVERY')?.value, '1');
    assert.equal(env(container, 'POSTERN_KUBERNETES_NAMESPACES')?.value, 'shop,auth');
  },
);

withHelm(
  'inline documents, ConfigMaps and Secrets meet under one import root; documents parse',
  async () => {
    const list = await renderChart({
      edge: {
        serviceMonitor: { enabled: true, labels: { release: 'prom' } },
        config: {
          documents: {
            'apps.yaml': {
              version: 1,
              certificates: [
                {
                  name: 'app',
                  cert: { valueFrom: { fileRef: { name: 'tls/app/tls.crt' } } },
                  key: { valueFrom: { fileRef: { name: 'tls/app/tls.key' } } },
                },
              ],
            },
          },
          configMaps: [{ name: 'more-docs' }],
          secrets: [
            {
              name: 'app-tls',
              items: [
                { key: 'tls.crt', path: 'tls/app/tls.crt' },
                { key: 'tls.key', path: 'tls/app/tls.key' },
              ],
            },
          ],
        },
      },
    });
    await checkAll(list);
    const cm = find(list, 'ConfigMap', 'rel-postern-edge-config') as {
      data: Record<string, string>;
    };
    // The document as the edge reads it, with the Secret's files where the items put them.
    const tls = await createSelfSignedCert();
    const files: Record<string, string> = {
      'tls/app/tls.crt': tls.cert,
      'tls/app/tls.key': tls.key,
    };
    const doc = parseDocument(cm.data['apps.yaml']!, {
      fileName: 'apps.yaml',
      readFileRef: (name) => files[name] ?? assert.fail(`no file ${name}`),
    });
    assert.deepEqual(
      doc.certificates.map((c) => c.name),
      ['app'],
    );
    const { pod, container } = containerOf(find(list, 'Deployment', 'rel-postern-edge'));
    assert.equal(env(container, 'POSTERN_CONFIG_DIR')?.value, '/etc/postern/config');
    const volume = (
      pod.volumes as unknown as {
        name: string;
        projected?: { sources: Record<string, { name: string }>[] };
      }[]
    ).find((v) => v.name === 'config');
    assert.deepEqual(
      volume?.projected?.sources.map((s) => Object.entries(s).map(([k, v]) => `${k}:${v.name}`)[0]),
      ['configMap:rel-postern-edge-config', 'configMap:more-docs', 'secret:app-tls'],
    );
    const monitor = find(list, 'ServiceMonitor', 'rel-postern-edge') as {
      metadata: { labels: Record<string, string> };
      spec: {
        endpoints: { port: string; path: string }[];
        selector: { matchLabels: Record<string, string> };
      };
    };
    assert.equal(monitor.metadata.labels['release'], 'prom');
    assert.deepEqual(
      monitor.spec.endpoints.map((e) => [e.port, e.path]),
      [['admin', '/metrics']],
    );
    const admin = find(list, 'Service', 'rel-postern-edge-admin') as {
      metadata: { labels: Record<string, string> };
    };
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
      assert.equal(admin.metadata.labels[k], v);
  },
);

withHelm(
  'the connector ServiceMonitor scrapes /metrics on every connector pod, admitted by its policy',
  async () => {
    const off = await renderChart({ connector: { enabled: true, provisionKey: 'k' } });
    assert.ok(!kinds(off).includes('ServiceMonitor/rel-postern-connector'), 'off by default');
    const list = await renderChart({
      connector: {
        enabled: true,
        provisionKey: 'k',
        serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prom' } },
      },
    });
    await checkAll(list);
    const monitor = find(list, 'ServiceMonitor', 'rel-postern-connector') as {
      metadata: { labels: Record<string, string> };
      spec: {
        endpoints: { port: string; path: string; interval: string }[];
        selector: { matchLabels: Record<string, string> };
      };
    };
    assert.equal(monitor.metadata.labels['release'], 'prom');
    assert.deepEqual(monitor.spec.endpoints, [
      { port: 'probes', path: '/metrics', interval: '15s' },
    ]);
    const service = find(list, 'Service', 'rel-postern-connector-metrics') as {
      metadata: { labels: Record<string, string> };
      spec: { clusterIP: string; selector: Record<string, string>; ports: { name: string }[] };
    };
    assert.equal(service.spec.clusterIP, 'None');
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
      assert.equal(service.metadata.labels[k], v, `Service label ${k}`);
    const deployment = find(list, 'Deployment', 'rel-postern-connector');
    const { container } = containerOf(deployment);
    const podLabels = (deployment as { spec: { template: { metadata: { labels: Values } } } }).spec
      .template.metadata.labels;
    for (const [k, v] of Object.entries(service.spec.selector))
      assert.equal(podLabels[k], v, `pod label ${k}`);
    assert.ok(container.ports?.some((p) => p.name === service.spec.ports[0]?.name));
    const policy = find(list, 'NetworkPolicy', 'rel-postern-connector') as {
      spec: { ingress: { ports: { port: number }[] }[] };
    };
    const probePort = container.ports?.find((p) => p.name === 'probes')?.containerPort;
    assert.deepEqual(
      policy.spec.ingress.flatMap((i) => i.ports.map((p) => p.port)),
      [probePort],
    );
  },
);

withHelm(
  'a Prometheus in another namespace may scrape: networkPolicy.metricsFrom joins the metrics ports only',
  async () => {
    const monitoring = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
    };
    const list = await renderChart({
      edge: { networkPolicy: { enabled: true, metricsFrom: [monitoring] } },
      connector: {
        enabled: true,
        existingSecret: 'k',
        networkPolicy: { enabled: true, metricsFrom: [monitoring] },
        serviceMonitor: { enabled: true },
      },
    });
    await checkAll(list);
    type Policy = { spec: { ingress: { from?: unknown[]; ports: { port: number }[] }[] } };
    const edge = find(list, 'NetworkPolicy', 'rel-postern-edge') as Policy;
    const admin = edge.spec.ingress.find((i) => i.ports.some((p) => p.port === 9090));
    assert.deepEqual(
      admin?.from,
      [{ podSelector: {} }, monitoring],
      'admin port: namespace + monitoring',
    );
    const open = edge.spec.ingress.find((i) => i.ports.some((p) => p.port === 8443));
    assert.equal(open?.from, undefined, 'the tunnel port stays open to all, unchanged');
    const connector = find(list, 'NetworkPolicy', 'rel-postern-connector') as Policy;
    assert.deepEqual(connector.spec.ingress[0]?.from, [{ podSelector: {} }, monitoring]);
    const plain = await renderChart({});
    const before = find(plain, 'NetworkPolicy', 'rel-postern-edge') as Policy;
    assert.deepEqual(
      before.spec.ingress.find((i) => i.ports.some((p) => p.port === 9090))?.from,
      [{ podSelector: {} }],
      'by default only this namespace',
    );
  },
);

withHelm(
  'edges and each connector group spread softly over nodes and zones by default',
  async () => {
    const list = await renderChart({ connector: { enabled: true, existingSecret: 'k' } });
    await checkAll(list);
    type Spread = {
      topologyKey: string;
      whenUnsatisfiable: string;
      labelSelector: { matchLabels: Values };
    };
    for (const name of ['rel-postern-edge', 'rel-postern-connector']) {
      const deployment = find(list, 'Deployment', name) as {
        spec: {
          template: { metadata: { labels: Values }; spec: { topologySpreadConstraints: Spread[] } };
        };
      };
      const spread = deployment.spec.template.spec.topologySpreadConstraints;
      assert.deepEqual(
        spread.map((c) => [c.topologyKey, c.whenUnsatisfiable]),
        [
          ['kubernetes.io/hostname', 'ScheduleAnyway'],
          ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
        ],
        name,
      );
      for (const c of spread)
        for (const [k, v] of Object.entries(c.labelSelector.matchLabels))
          assert.equal(
            deployment.spec.template.metadata.labels[k],
            v,
            `${name} selects its pods: ${k}`,
          );
    }
    const custom = [
      { maxSkew: 2, topologyKey: 'rack', whenUnsatisfiable: 'DoNotSchedule', labelSelector: {} },
    ];
    const own = await renderChart({ edge: { topologySpreadConstraints: custom } });
    const edge = find(own, 'Deployment', 'rel-postern-edge') as {
      spec: { template: { spec: { topologySpreadConstraints: unknown[] } } };
    };
    assert.deepEqual(edge.spec.template.spec.topologySpreadConstraints, custom);
  },
);

withHelm('a memory target is opt-in, connector-wide or per group', async () => {
  const list = await renderChart({
    edge: { enabled: false },
    connector: {
      enabled: true,
      autoscaling: { targetMemoryUtilizationPercentage: 75 },
      multiConnector: {
        enabled: true,
        groups: [
          { name: 'a', existingSecret: 'key-a' },
          {
            name: 'b',
            existingSecret: 'key-b',
            autoscaling: { targetMemoryUtilizationPercentage: 0 },
          },
        ],
      },
    },
  });
  await checkAll(list);
  const metrics = (name: string) =>
    (
      find(list, 'HorizontalPodAutoscaler', name) as {
        spec: { metrics: { resource: { name: string; target: { averageUtilization: number } } }[] };
      }
    ).spec.metrics.map((m) => [m.resource.name, m.resource.target.averageUtilization]);
  assert.deepEqual(metrics('rel-postern-connector-a'), [
    ['cpu', 80],
    ['memory', 75],
  ]);
  assert.deepEqual(metrics('rel-postern-connector-b'), [['cpu', 80]]);
});
