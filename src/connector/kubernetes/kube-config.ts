import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { kubernetesErrors } from './errors.js';

/** Where the kubelet mounts a pod's service-account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How to reach and authenticate to one Kubernetes API server. */
export interface KubeConnection {
  /** Base URL, `https://host:port`. */
  readonly server: string;
  /** CA bundle the server's certificate must chain to; default the system CAs. */
  readonly caPem?: string | undefined;
  /** Client certificate and key (kubeconfig users that authenticate by certificate). */
  readonly certPem?: string | undefined;
  readonly keyPem?: string | undefined;
  /** Bearer token for each request; read again every time, because bound tokens rotate. */
  readonly token?: (() => Promise<string | undefined>) | undefined;
  readonly insecureSkipTlsVerify?: boolean | undefined;
  /** The namespace of the pod (in cluster) or of the kubeconfig context; default `default`. */
  readonly namespace: string;
}

/**
 * The pod's own connection: `KUBERNETES_SERVICE_HOST`/`_PORT` and the mounted service
 * account. Throws POSTERN_ERR_KUBERNETES_CONFIG outside a pod or without a mounted token.
 */
export async function inClusterConnection(
  options: { env?: NodeJS.ProcessEnv; dir?: string } = {},
): Promise<KubeConnection> {
  const env = options.env ?? process.env;
  const dir = options.dir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw kubernetesErrors.config('KUBERNETES_SERVICE_HOST is not set (not in a pod?)');
  const tokenPath = join(dir, 'token');
  const [caPem, namespace] = await Promise.all([
    readText(join(dir, 'ca.crt')),
    readFile(join(dir, 'namespace'), 'utf8').then(
      (text) => text.trim(),
      () => 'default',
    ),
    readText(tokenPath),
  ]);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    caPem,
    token: async () => (await readFile(tokenPath, 'utf8')).trim(),
    namespace,
  };
}

interface NamedEntry<T> {
  name?: string;
  cluster?: T;
  user?: T;
  context?: T;
}
type Entries = Record<string, unknown>;

/**
 * A kubeconfig file's current (or given) context: server, CA, token or client certificate.
 * Relative file paths count from the kubeconfig's directory, as kubectl does. Exec and
 * auth-provider plugins are not run: use a token or a certificate.
 */
export async function kubeconfigConnection(
  path: string,
  options: { context?: string } = {},
): Promise<KubeConnection> {
  const doc = parseYaml(await readText(path)) as Entries | null;
  if (!doc || typeof doc !== 'object') throw kubernetesErrors.config(`${path} is empty`);
  const contextName = options.context ?? (doc['current-context'] as string | undefined);
  const context = pick(doc, 'contexts', 'context', contextName, path);
  const cluster = pick(doc, 'clusters', 'cluster', context['cluster'], path);
  const user = context['user'] ? pick(doc, 'users', 'user', context['user'], path) : {};
  const base = dirname(path);
  const file = (p: unknown) => (typeof p === 'string' ? (isAbsolute(p) ? p : join(base, p)) : '');
  const inline = (data: unknown, ref: unknown): Promise<string | undefined> =>
    typeof data === 'string'
      ? Promise.resolve(Buffer.from(data, 'base64').toString('utf8'))
      : typeof ref === 'string'
        ? readText(file(ref))
        : Promise.resolve(undefined);
  if (user['exec'] !== undefined || user['auth-provider'] !== undefined) {
    throw kubernetesErrors.config(`${path}: exec and auth-provider users are not supported`);
  }
  const server = cluster['server'];
  if (typeof server !== 'string' || !server.startsWith('https://')) {
    throw kubernetesErrors.config(`${path}: the cluster has no https:// server`);
  }
  const tokenFile = user['tokenFile'];
  const token =
    typeof user['token'] === 'string'
      ? () => Promise.resolve(user['token'] as string)
      : typeof tokenFile === 'string'
        ? async () => (await readText(file(tokenFile))).trim()
        : undefined;
  return {
    server: server.replace(/\/+$/, ''),
    caPem: await inline(cluster['certificate-authority-data'], cluster['certificate-authority']),
    certPem: await inline(user['client-certificate-data'], user['client-certificate']),
    keyPem: await inline(user['client-key-data'], user['client-key']),
    token,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    namespace: (context['namespace'] as string | undefined) ?? 'default',
  };
}

function pick(doc: Entries, list: string, field: string, name: unknown, path: string): Entries {
  const entries = (doc[list] ?? []) as NamedEntry<Entries>[];
  const entry = Array.isArray(entries) ? entries.find((e) => e.name === name) : undefined;
  const value = entry?.[field as keyof NamedEntry<Entries>];
  if (!value || typeof value !== 'object') {
    throw kubernetesErrors.config(`${path} has no ${field} named "${String(name)}"`);
  }
  return value;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw kubernetesErrors.config(`cannot read ${path}`, err);
  }
}
