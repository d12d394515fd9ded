import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { join } from 'node:path';
import { repoRoot } from '../support/repo-root.js';
import { helmTest, renderChart } from './helm-render.js';
import { validateKubeObject, type KubeObject } from './kube-schema.js';
import { podSpecOf, renderOverlay, type Container, type PodSpec } from './kustomize-render.js';
import { envValue, fileSource } from './mounted-files.js';
import { postureProblems } from './security-posture.js';

// The Konnectivity frontend in the chart and the Kustomize components: TCP with mutual TLS for
// an edge reached over the network, a Unix socket in a host directory for an edge beside
// kube-apiserver on a control-plane node. Off by default.

const VERSION = (
  JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }
).version;

type Peer = Record<string, unknown>;
type Rule = { from?: Peer[]; ports: { port: number }[] };
type Service = { spec: { type: string; selector: Record<string, string>; ports: ServicePort[] } };
type ServicePort = { name: string; port: number; targetPort: string | number };
type PodTemplate = {
  spec: {
    strategy?: { rollingUpdate?: { maxSurge: number; maxUnavailable: number } };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        nodeSelector?: Record<string, string>;
        tolerations?: { key: string; operator: string; effect?: string }[];
        affinity?: {
          podAntiAffinity?: {
            requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey: string }[];
          };
        };
      };
    };
  };
};

const apiserver: Peer = { ipBlock: { cidr: '10.0.0.0/24' } };
const hostedControlPlane: Peer = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'tenant-cp' } },
};

function named<T>(list: KubeObject[], kind: string, name: string): T {
  const obj = list.find((o) => o.kind === kind && (o.metadata as { name: string }).name === name);
  assert.ok(obj, `${kind}/${name} is rendered`);
  return obj as unknown as T;
}

function edgeOf(list: KubeObject[]): { pod: PodSpec; c: Container; obj: PodTemplate } {
  const obj = list.find(
    (o) => o.kind === 'Deployment' && JSON.stringify(o.metadata).includes('edge'),
  );
  assert.ok(obj, 'the edge Deployment is rendered');
  const pod = podSpecOf(obj);
  assert.ok(pod);
  return { pod, c: pod.containers[0]!, obj: obj as unknown as PodTemplate };
}

async function schemaProblems(list: KubeObject[]): Promise<string[]> {
  const builtIn = list.filter((o) => !o.apiVersion.startsWith('monitoring.coreos.com/'));
  return (await Promise.all(builtIn.map((o) => validateKubeObject(o)))).flat();
}

/** The rules of the edge NetworkPolicy that admit `port`. */
function rulesFor(list: KubeObject[], policy: string, port: number): Rule[] {
  const p = named<{ spec: { ingress: Rule[] } }>(list, 'NetworkPolicy', policy);
  return p.spec.ingress.filter((r) => r.ports.some((x) => x.port === port));
}

/** No trace of the frontend: variables, ports, Service, host paths, policy rules. */
function assertNoKonnectivity(list: KubeObject[]): void {
  const { pod, c } = edgeOf(list);
  const vars = (c.env ?? []).map((e) => e.name);
  assert.deepEqual(
    vars.filter((n) => n.startsWith('POSTERN_KONNECTIVITY') || n === 'POSTERN_PROXY_STRATEGIES'),
    [],
  );
  assert.ok(!c.ports?.some((p) => p.name === 'konnectivity'), 'no konnectivity port');
  assert.ok(!pod.volumes?.some((v) => v.hostPath), 'no host path');
  assert.ok(!list.some((o) => (o.metadata as { name: string }).name.endsWith('-konnectivity')));
  const policy = list.find((o) => o.kind === 'NetworkPolicy' && JSON.stringify(o).includes('8443'));
  const ports = (policy?.['spec'] as { ingress: Rule[] }).ingress.flatMap((r) =>
    r.ports.map((p) => p.port),
  );
  assert.deepEqual(ports.sort(), [8443, 9090]);
}

/**
 * The TCP frontend as kube-apiserver reaches it: a Service port onto the container port the
 * edge listens on, a policy rule admitting exactly `peers` to it and no rule admitting anyone
 * else, the client CA a mounted file from `clientCa`.
 */
function assertTcpFrontend(
  list: KubeObject[],
  o: {
    service: string;
    policy: string;
    peers: Peer[];
    clientCa: { kind: string; name: string; key: string };
  },
): { pod: PodSpec; c: Container; port: number } {
  const { pod, c, obj } = edgeOf(list);
  const listen = envValue(c, 'POSTERN_KONNECTIVITY_LISTEN');
  const port = Number(listen?.split(':').pop());
  assert.equal(listen, `0.0.0.0:${port}`, 'listens on every address of the pod');
  assert.equal(c.ports?.find((p) => p.name === 'konnectivity')?.containerPort, port);
  const svc = named<Service>(list, 'Service', o.service);
  assert.deepEqual(
    svc.spec.ports.map((p) => [p.port, p.targetPort]),
    [[port, 'konnectivity']],
  );
  for (const [k, v] of Object.entries(svc.spec.selector))
    assert.equal(obj.spec.template.metadata.labels[k], v, `the Service selects the edge: ${k}`);
  const rules = rulesFor(list, o.policy, port);
  assert.deepEqual(
    rules.map((r) => r.from),
    [o.peers],
    'only the configured peers reach the port',
  );
  const ca = envValue(c, 'POSTERN_KONNECTIVITY_CLIENT_CA');
  assert.ok(ca);
  const source = fileSource(pod, c, ca);
  assert.deepEqual(
    {
      kind: source.kind,
      name: 'name' in source ? source.name : '',
      key: 'key' in source ? source.key : '',
    },
    o.clientCa,
  );
  assert.ok(source.readOnly, 'the client CA is mounted read-only');
  assert.ok(envValue(c, 'POSTERN_PROXY_STRATEGIES'), 'proxy strategies are set');
  return { pod, c, port };
}

/** The UDS frontend: the socket in a host directory, the edge on control-plane nodes. */
function assertUdsFrontend(list: KubeObject[], hostDir: string): void {
  const { pod, c, obj } = edgeOf(list);
  const socket = envValue(c, 'POSTERN_KONNECTIVITY_UDS');
  assert.ok(socket);
  const source = fileSource(pod, c, socket);
  assert.equal(source.kind, 'hostPath');
  assert.ok(source.kind === 'hostPath');
  assert.equal(source.path, hostDir);
  assert.equal(source.type, 'Directory', 'never a root-owned directory the kubelet would create');
  assert.equal(source.readOnly, false, 'the edge creates the socket there');
  assert.equal(posix.dirname(socket), hostDir, 'same path in the pod as on the host');
  const spec = obj.spec.template.spec;
  assert.equal(spec.nodeSelector?.['node-role.kubernetes.io/control-plane'], '');
  assert.ok(
    spec.tolerations?.some(
      (t) => t.key === 'node-role.kubernetes.io/control-plane' && t.operator === 'Exists',
    ),
    'tolerates the control-plane taint',
  );
  // The one exception to the posture: the host directory, and nothing else.
  const problems = list.flatMap((o) => postureProblems(o, VERSION));
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /volume konnectivity-uds is a hostPath/);
}

helmTest('the chart renders no Konnectivity frontend by default', async () => {
  assertNoKonnectivity(await renderChart({}));
});

helmTest(
  'chart, TCP with mTLS: Service port, client CA from a Secret, server certificate Secret, port open to the given peers only',
  async () => {
    const list = await renderChart({
      edge: {
        konnectivity: {
          enabled: true,
          group: 'k8s-nodes',
          tcp: {
            clientCA: { secretName: 'apiserver-client-ca', key: 'bundle.pem' },
            serverCert: { existingSecret: 'konnectivity-tls' },
            from: [apiserver, hostedControlPlane],
          },
        },
      },
    });
    assert.deepEqual(await schemaProblems(list), []);
    assert.deepEqual(
      list.flatMap((o) => postureProblems(o, VERSION)),
      [],
    );
    const { pod, c, port } = assertTcpFrontend(list, {
      service: 'rel-postern-edge-konnectivity',
      policy: 'rel-postern-edge',
      peers: [apiserver, hostedControlPlane],
      clientCa: { kind: 'secret', name: 'apiserver-client-ca', key: 'bundle.pem' },
    });
    assert.equal(port, 8131);
    for (const [name, key] of [
      ['POSTERN_KONNECTIVITY_CERT', 'tls.crt'],
      ['POSTERN_KONNECTIVITY_KEY', 'tls.key'],
    ] as const) {
      const s = fileSource(pod, c, envValue(c, name) ?? assert.fail(`${name} is set`));
      assert.deepEqual(
        [s.kind, 'name' in s && s.name, 'key' in s && s.key],
        ['secret', 'konnectivity-tls', key],
      );
    }
    assert.equal(envValue(c, 'POSTERN_KONNECTIVITY_SERVER_NAMES'), undefined, 'nothing is issued');
    assert.equal(envValue(c, 'POSTERN_KONNECTIVITY_GROUP'), 'k8s-nodes');
    assert.equal(envValue(c, 'POSTERN_PROXY_STRATEGIES'), 'destHost,cidr,defaultRoute');
    assert.deepEqual(
      rulesFor(list, 'rel-postern-edge', 8443).map((r) => r.from),
      [undefined],
      'tunnel unchanged',
    );
  },
);

helmTest(
  'chart, TCP with an issued certificate: client CA from a ConfigMap, the certificate names the Service',
  async () => {
    const list = await renderChart({
      edge: {
        konnectivity: {
          enabled: true,
          tcp: {
            port: 9131,
            clientCA: { configMapName: 'apiserver-ca' },
            serverNames: ['konnectivity.example.com'],
            from: [apiserver],
          },
        },
      },
    });
    assert.deepEqual(await schemaProblems(list), []);
    const { c, port } = assertTcpFrontend(list, {
      service: 'rel-postern-edge-konnectivity',
      policy: 'rel-postern-edge',
      peers: [apiserver],
      clientCa: { kind: 'configMap', name: 'apiserver-ca', key: 'ca.crt' },
    });
    assert.equal(port, 9131);
    assert.deepEqual(envValue(c, 'POSTERN_KONNECTIVITY_SERVER_NAMES')?.split(','), [
      'rel-postern-edge-konnectivity',
      'rel-postern-edge-konnectivity.postern',
      'rel-postern-edge-konnectivity.postern.svc',
      'konnectivity.example.com',
    ]);
    assert.equal(envValue(c, 'POSTERN_KONNECTIVITY_CERT'), undefined);
  },
);

helmTest(
  'chart, TCP refuses to render without a client CA or without peers for the port',
  async () => {
    const tcp = { clientCA: { secretName: 'ca' }, from: [apiserver] };
    await assert.rejects(
      renderChart({ edge: { konnectivity: { enabled: true, tcp: { ...tcp, clientCA: {} } } } }),
      /clientCA/,
    );
    await assert.rejects(
      renderChart({ edge: { konnectivity: { enabled: true, tcp: { ...tcp, from: [] } } } }),
      /tcp\.from/,
    );
    await assert.rejects(
      renderChart({
        edge: {
          konnectivity: { enabled: true, tcp: { ...tcp, enabled: false }, uds: { enabled: false } },
        },
      }),
      /tcp\.enabled or edge\.konnectivity\.uds\.enabled/,
    );
  },
);

helmTest(
  'chart, UDS: the socket in the host directory, one edge per control-plane node, rolling without surge',
  async () => {
    const list = await renderChart({
      edge: {
        replicas: 3,
        store: { postgres: { existingSecret: 'pg' } },
        ca: { existingSecret: 'ca' },
        adminToken: { existingSecret: 'admin' },
        tokenSigningKey: { existingSecret: 'signing' },
        konnectivity: {
          enabled: true,
          tcp: { enabled: false },
          uds: { enabled: true, hostPath: '/run/konnectivity' },
        },
      },
    });
    assert.deepEqual(await schemaProblems(list), []);
    assertUdsFrontend(list, '/run/konnectivity');
    const { c, obj } = edgeOf(list);
    assert.equal(
      envValue(c, 'POSTERN_KONNECTIVITY_UDS'),
      '/run/konnectivity/konnectivity-server.socket',
    );
    assert.equal(envValue(c, 'POSTERN_KONNECTIVITY_LISTEN'), undefined);
    assert.ok(!list.some((o) => (o.metadata as { name: string }).name.endsWith('-konnectivity')));
    const anti = obj.spec.template.spec.affinity?.podAntiAffinity;
    assert.deepEqual(
      anti?.requiredDuringSchedulingIgnoredDuringExecution?.map((t) => t.topologyKey),
      ['kubernetes.io/hostname'],
    );
    assert.deepEqual(obj.spec.strategy?.rollingUpdate, { maxUnavailable: 1, maxSurge: 0 });
  },
);

test('Kustomize: base/edge alone has no Konnectivity frontend', async () => {
  assertNoKonnectivity(await renderOverlay({ namespace: 'postern', resources: ['base/edge'] }));
});

test('Kustomize component konnectivity-tcp: Service, client CA ConfigMap, port open to the listed peers only', async () => {
  const list = await renderOverlay({
    namespace: 'postern',
    resources: ['base/edge'],
    components: ['components/konnectivity-tcp'],
  });
  assert.deepEqual(await schemaProblems(list), []);
  assert.deepEqual(
    list.flatMap((o) => postureProblems(o, VERSION)),
    [],
  );
  const policy = named<{ spec: { ingress: Rule[] } }>(list, 'NetworkPolicy', 'postern-edge');
  const rule = policy.spec.ingress.find((r) => r.ports.some((p) => p.port === 8131));
  const peers = rule?.from ?? [];
  assert.ok(peers.length > 0 && peers.every((p) => p['ipBlock']), 'an address range, not everyone');
  const { c } = assertTcpFrontend(list, {
    service: 'postern-edge-konnectivity',
    policy: 'postern-edge',
    peers,
    clientCa: { kind: 'configMap', name: 'postern-konnectivity-client-ca', key: 'ca.crt' },
  });
  // The issued certificate names the Service in the overlay's namespace.
  assert.ok(
    envValue(c, 'POSTERN_KONNECTIVITY_SERVER_NAMES')
      ?.split(',')
      .includes('postern-edge-konnectivity.postern.svc'),
  );
  for (const o of list) assert.equal((o.metadata as { namespace?: string }).namespace, 'postern');
});

test('Kustomize component konnectivity-uds: socket in the host directory on a control-plane node', async () => {
  const list = await renderOverlay({
    namespace: 'postern',
    resources: ['base/edge'],
    components: ['components/konnectivity-uds'],
  });
  assert.deepEqual(await schemaProblems(list), []);
  assertUdsFrontend(list, '/etc/kubernetes/konnectivity-server');
  assert.ok(!list.some((o) => o.kind === 'Service' && JSON.stringify(o).includes('8131')));
});

test('every variable the Konnectivity components set is documented', async () => {
  const docs = ['configuration.md', 'konnectivity.md']
    .map((f) => readFileSync(join(repoRoot(), 'docs', f), 'utf8'))
    .join('\n');
  const list = await renderOverlay({
    namespace: 'postern',
    resources: ['base/edge'],
    components: ['components/konnectivity-tcp', 'components/konnectivity-uds'],
  });
  const names = (edgeOf(list).c.env ?? []).map((e) => e.name);
  assert.ok(
    names.includes('POSTERN_KONNECTIVITY_UDS') && names.includes('POSTERN_KONNECTIVITY_LISTEN'),
  );
  for (const name of names) assert.ok(docs.includes(`\`${name}`), `${name} is documented`);
});
