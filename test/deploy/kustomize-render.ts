import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../support/repo-root.js';
import type { KubeObject } from './kube-schema.js';

/** The overlays under deploy/kustomize/overlays. */
export const OVERLAYS = ['edge', 'connector'] as const;

/** Renders `deploy/kustomize/<dir>` with `kubectl kustomize` and parses every object. */
export function renderKustomization(dir: string): Promise<KubeObject[]> {
  const path = join(repoRoot(), 'deploy', 'kustomize', dir);
  return new Promise((resolve, reject) => {
    execFile(
      'kubectl',
      ['kustomize', path],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const missing = (err as { code?: unknown }).code === 'ENOENT';
          const why = missing ? 'kubectl is not on PATH (it renders the manifests)' : stderr;
          reject(new Error(`kubectl kustomize ${dir} failed: ${why || err.message}`));
          return;
        }
        try {
          resolve(parseObjects(stdout));
        } catch (parseErr) {
          reject(parseErr instanceof Error ? parseErr : new Error(String(parseErr)));
        }
      },
    );
  });
}

/**
 * Renders an overlay written for the test: in `namespace`, of the given `deploy/kustomize`
 * directories as resources and components (kustomize accepts only relative paths to them).
 */
export async function renderOverlay(o: {
  namespace: string;
  resources: string[];
  components?: string[];
}): Promise<KubeObject[]> {
  const dir = await mkdtemp(join(tmpdir(), 'postern-kustomize-'));
  try {
    const rel = (d: string) => relative(dir, join(repoRoot(), 'deploy', 'kustomize', d));
    const overlay = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace: o.namespace,
      resources: o.resources.map(rel),
      components: (o.components ?? []).map(rel),
    };
    await writeFile(join(dir, 'kustomization.yaml'), JSON.stringify(overlay));
    return await renderKustomization(relative(join(repoRoot(), 'deploy', 'kustomize'), dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every object of a multi-document YAML stream of rendered manifests; empty documents skipped. */
export function parseObjects(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  // YAML 1.1, as Kubernetes reads manifests: `defaultMode: 0440` is octal there, not 440.
  for (const doc of parseAllDocuments(text, { version: '1.1' })) {
    if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('\n'));
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const obj = value as Partial<KubeObject>;
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
      throw new Error(`rendered document without apiVersion/kind: ${JSON.stringify(value)}`);
    }
    objects.push(obj as KubeObject);
  }
  return objects;
}

/** Pod template of a workload, or undefined for other kinds. */
export function podSpecOf(obj: KubeObject): PodSpec | undefined {
  const workloads = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'];
  if (!workloads.includes(obj.kind)) return undefined;
  const spec = obj.spec as { template?: { spec?: PodSpec } } | undefined;
  return spec?.template?.spec;
}

/** The parts of a pod spec these tests read. */
export interface PodSpec {
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    fsGroup?: number;
    seccompProfile?: { type?: string };
  };
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  terminationGracePeriodSeconds?: number;
  containers: Container[];
  initContainers?: Container[];
  volumes?: {
    name: string;
    hostPath?: unknown;
    emptyDir?: unknown;
    persistentVolumeClaim?: { claimName: string };
  }[];
}

/** The parts of a container these tests read. */
export interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key: string; optional?: boolean };
      configMapKeyRef?: { name: string; key: string; optional?: boolean };
    };
  }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type?: string };
  };
}

/** A container probe (the fields these tests read). */
export interface Probe {
  httpGet?: { path?: string; port: number | string };
  exec?: unknown;
  tcpSocket?: unknown;
}
