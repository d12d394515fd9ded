import { join } from 'node:path';
import * as prettier from 'prettier';
import { configJsonSchema } from '../../src/config/index.js';
import { repoRoot } from '../support/repo-root.js';

type Schema = Record<string, unknown>;

/** Where the chart keeps its generated values schema, relative to the repository. */
export const VALUES_SCHEMA_PATH = 'deploy/helm/postern/values.schema.json';

// Small constructors keep the schema below readable; every object is closed
// (additionalProperties: false) so a typo in a values file fails `helm install`.
const str = (description?: string, extra: Schema = {}): Schema => ({
  type: 'string',
  ...(description ? { description } : {}),
  ...extra,
});
const bool = (description?: string): Schema => ({
  type: 'boolean',
  ...(description ? { description } : {}),
});
const int = (min: number, max?: number, description?: string): Schema => ({
  type: 'integer',
  minimum: min,
  ...(max === undefined ? {} : { maximum: max }),
  ...(description ? { description } : {}),
});
const port = (description?: string): Schema => int(1, 65535, description);
const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: 'object',
  properties,
  additionalProperties: false,
  ...extra,
});
const freeMap = (description: string, values: Schema = { type: 'string' }): Schema => ({
  type: 'object',
  description,
  additionalProperties: values,
});
const anyObject = (description: string): Schema => ({ type: 'object', description });
const arrayOf = (items: Schema, description?: string): Schema => ({
  type: 'array',
  items,
  ...(description ? { description } : {}),
});
/** A Kubernetes name (DNS-1123 label or subdomain). */
const k8sName = (description?: string): Schema =>
  str(description, { pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 });
const optionalName = (description: string): Schema => ({
  anyOf: [{ type: 'string', maxLength: 0 }, k8sName()],
  description,
});

const resources = anyObject(
  'Container resources (requests and limits); see the sizing notes in docs/kubernetes.md.',
);
const scheduling = {
  podAnnotations: freeMap('Annotations on the pods.'),
  podLabels: freeMap('Labels added to the pods.'),
  nodeSelector: freeMap('Node labels the pods must run on.'),
  affinity: anyObject('Pod affinity and anti-affinity, as in a pod spec.'),
  tolerations: arrayOf(anyObject('A toleration.'), 'Tolerations, as in a pod spec.'),
  topologySpreadConstraints: arrayOf(
    anyObject('A topology spread constraint.'),
    'As in a pod spec; empty: spread softly over hosts and zones.',
  ),
  extraArgs: arrayOf({ type: 'string' }, 'More command-line flags.'),
  extraEnv: arrayOf(anyObject('An env entry.'), 'More environment variables.'),
};
const disruptionBudget = obj({
  enabled: bool(),
  maxUnavailable: { anyOf: [int(0), str()], description: 'A count or a percentage.' },
});
const autoscaling = (required: boolean): Schema =>
  obj(
    {
      enabled: bool(),
      minReplicas: int(1),
      maxReplicas: int(1),
      targetCPUUtilizationPercentage: int(1, 100),
      targetMemoryUtilizationPercentage: int(
        0,
        100,
        'Average memory of the requests to keep; 0: no memory metric (a Node.js heap rarely shrinks).',
      ),
    },
    required
      ? {
          required: [
            'enabled',
            'minReplicas',
            'maxReplicas',
            'targetCPUUtilizationPercentage',
            'targetMemoryUtilizationPercentage',
          ],
        }
      : {},
  );
const keyItems = arrayOf(
  obj(
    {
      key: str('Key in the ConfigMap or Secret.'),
      // Relative and without `..`; no lookahead: Helm checks patterns with Go's RE2.
      path: str('Path under the import root.', { pattern: '^[^/]', not: { pattern: '\\.\\.' } }),
    },
    { required: ['key', 'path'] },
  ),
);

const networkPeers = (description: string): Schema =>
  arrayOf(
    anyObject('A NetworkPolicy peer (podSelector, namespaceSelector or ipBlock).'),
    description,
  );

function konnectivitySchema(): Schema {
  return obj({
    enabled: bool(
      'Serve the Konnectivity-compatible HTTP CONNECT frontend (docs/konnectivity.md).',
    ),
    proxyStrategies: str(
      '--proxy-strategies: comma list of destHost, cidr, defaultRoute, default.',
      {
        pattern: '^(destHost|cidr|defaultRoute|default)(,(destHost|cidr|defaultRoute|default))*$',
      },
    ),
    group: str('--konnectivity-group: only this connector group serves the frontend.'),
    tcp: obj({
      enabled: bool('Listen on TCP with mutual TLS (--konnectivity-listen).'),
      port: port('Container and Service port.'),
      clientCA: obj({
        secretName: optionalName("Secret holding the CA of kube-apiserver's client certificate."),
        configMapName: optionalName('ConfigMap holding it instead.'),
        key: str('Key of the CA bundle.', { minLength: 1 }),
      }),
      serverCert: obj({
        existingSecret: optionalName('kubernetes.io/tls Secret for the listener; empty: issued.'),
      }),
      serverNames: arrayOf(str(), 'Extra names / IPs of the issued certificate.'),
      service: obj({
        type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] },
        annotations: freeMap('Annotations of the Service.'),
      }),
      from: networkPeers("Peers that may reach the port (kube-apiserver's); required."),
    }),
    uds: obj({
      enabled: bool('Serve on a Unix socket in a host directory (--konnectivity-uds).'),
      hostPath: str('Host directory kube-apiserver mounts too.', { pattern: '^/' }),
      socketName: str('Socket file name in it.', { pattern: '^[^/]+$' }),
    }),
  });
}

function edgeSchema(): Schema {
  return obj({
    enabled: bool('Render the edge.'),
    replicas: int(1, undefined, 'More than one needs store.postgres.'),
    advertiseAddress: str('host:port connectors dial (the load balancer); keys carry it.'),
    adminToken: obj({
      existingSecret: optionalName('Secret with the admin API token.'),
      key: str(),
    }),
    ca: obj({
      existingSecret: optionalName('Secret with ca.crt and ca.key shared by every edge.'),
    }),
    tokenSigningKey: obj({
      existingSecret: optionalName('Secret with the user-token signing key shared by every edge.'),
      key: str(),
    }),
    store: obj({
      postgres: obj({
        existingSecret: optionalName('Secret with the PostgreSQL URL (--store).'),
        key: str(),
      }),
    }),
    persistence: obj({ size: str(), storageClassName: str() }),
    ports: obj({ tunnel: port(), admin: port() }),
    service: obj({
      type: { enum: ['LoadBalancer', 'NodePort'] },
      annotations: freeMap('Passed through, e.g. for an AWS-compatible load balancer controller.'),
      externalTrafficPolicy: { enum: ['Local', 'Cluster'] },
      loadBalancerClass: str(),
      loadBalancerSourceRanges: arrayOf(str()),
      nodePorts: freeMap(
        'Node ports by port name (tunnel or a publicPorts name).',
        int(30000, 32767),
      ),
      publicPorts: arrayOf(
        obj(
          {
            name: str('Port name (IANA service name syntax).', {
              pattern: '^[a-z]([-a-z0-9]{0,13}[a-z0-9])?$',
            }),
            port: port('Port on the Service.'),
            targetPort: port("The virtual server's listen port in the pod."),
          },
          { required: ['name', 'port', 'targetPort'] },
        ),
      ),
    }),
    config: obj({
      documents: {
        type: 'object',
        description: 'Inline configuration documents by file name.',
        propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*\\.(ya?ml|json)$' },
        additionalProperties: { $ref: '#/definitions/configDocument' },
      },
      configMaps: arrayOf(obj({ name: k8sName(), items: keyItems }, { required: ['name'] })),
      secrets: arrayOf(obj({ name: k8sName(), items: keyItems }, { required: ['name', 'items'] })),
    }),
    resources,
    podDisruptionBudget: disruptionBudget,
    konnectivity: konnectivitySchema(),
    networkPolicy: obj({
      enabled: bool(),
      metricsFrom: arrayOf(
        anyObject('A NetworkPolicy peer (podSelector, namespaceSelector or ipBlock).'),
        "Peers that may scrape /metrics besides this namespace's pods.",
      ),
    }),
    serviceMonitor: obj({
      enabled: bool(),
      interval: str(),
      labels: freeMap('Labels Prometheus selects on.'),
    }),
    ...scheduling,
    shutdownGraceSeconds: int(
      0,
      3600,
      'On SIGTERM, how long the edge keeps serving after /readyz turns 503.',
    ),
    drainTimeoutSeconds: int(
      0,
      3600,
      'Then how long requests and sessions in flight may take to finish.',
    ),
    terminationGracePeriodSeconds: int(1),
  });
}

function connectorSchema(): Schema {
  const group = obj(
    {
      name: k8sName("Suffix of this group's objects."),
      provisionKey: str("The group's provisioning key (the chart stores it in a Secret)."),
      existingSecret: optionalName("Secret holding the group's key."),
      existingSecretKey: str(),
      replicas: int(1),
      autoscaling: autoscaling(false),
      resources,
    },
    { required: ['name'] },
  );
  return obj({
    enabled: bool('Render connectors.'),
    provisionKey: str('Provisioning key of the single group.'),
    existingSecret: optionalName("Secret holding the single group's key."),
    existingSecretKey: str(),
    multiConnector: obj({ enabled: bool(), groups: arrayOf(group) }),
    ephemeral: bool('Give the key use back when a pod stops.'),
    edgeAddress: str('Edge address instead of the one in the key.'),
    drainTimeoutSeconds: int(
      0,
      3600,
      'On SIGTERM, how long sessions in flight may take to finish.',
    ),
    replicas: int(1),
    autoscaling: autoscaling(true),
    probePort: port('Port of /healthz, /readyz and /metrics.'),
    resources,
    podDisruptionBudget: disruptionBudget,
    networkPolicy: obj({
      enabled: bool(),
      metricsFrom: arrayOf(
        anyObject('A NetworkPolicy peer (podSelector, namespaceSelector or ipBlock).'),
        "Peers that may scrape /metrics besides this namespace's pods.",
      ),
    }),
    serviceMonitor: obj({
      enabled: bool('Render a ServiceMonitor (and a headless Service) for /metrics.'),
      interval: str(),
      labels: freeMap('Labels Prometheus selects on.'),
    }),
    kubernetesDiscovery: obj({
      enabled: bool('Report Services annotated postern.dev/expose to the edge.'),
      namespaces: arrayOf(k8sName(), "Namespaces to discover in; default the release's."),
    }),
    ...scheduling,
  });
}

/** Renames a draft 2020-12 schema's `$defs` to draft-07 `definitions` under a prefix. */
function asDraft7Definitions(schema: Schema, prefix: string): { root: Schema; defs: Schema } {
  const text = JSON.stringify(schema).replaceAll('"#/$defs/', `"#/definitions/${prefix}`);
  const { $schema: _dropped, $defs, ...root } = JSON.parse(text) as Schema & { $defs?: Schema };
  const defs = Object.fromEntries(
    Object.entries($defs ?? {}).map(([name, def]) => [`${prefix}${name}`, def]),
  );
  return { root, defs };
}

/**
 * The chart's values.schema.json (JSON Schema draft-07, which every Helm 3 release reads),
 * with the configuration document schema (src/config, the same one documents and the API use)
 * embedded for `edge.config.documents`.
 */
export function helmValuesSchema(): Schema {
  const config = asDraft7Definitions(configJsonSchema(), 'config.');
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Postern Helm chart values',
    description: 'Generated by scripts/helm-values-schema.mjs; do not edit by hand.',
    ...obj({
      image: obj(
        {
          repository: str('Image repository.', { minLength: 1 }),
          tag: str('Pinned image tag; never latest.', { minLength: 1, not: { const: 'latest' } }),
          pullPolicy: { enum: ['IfNotPresent', 'Always', 'Never'] },
        },
        { required: ['repository', 'tag'] },
      ),
      imagePullSecrets: arrayOf(obj({ name: k8sName() }, { required: ['name'] })),
      nameOverride: str(),
      fullnameOverride: str(),
      edge: edgeSchema(),
      connector: connectorSchema(),
    }),
    definitions: { configDocument: config.root, ...config.defs },
  };
}

/** The file's text as committed: the schema as JSON, formatted by the project's Prettier. */
export async function helmValuesSchemaText(): Promise<string> {
  const path = join(repoRoot(), VALUES_SCHEMA_PATH);
  const options = (await prettier.resolveConfig(path)) ?? {};
  return prettier.format(JSON.stringify(helmValuesSchema()), { ...options, filepath: path });
}
