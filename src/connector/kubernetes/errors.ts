import { PosternError } from '../../core/index.js';

/** Errors of the connector's Kubernetes service discovery. */
export const kubernetesErrors = {
  config: (why: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_KUBERNETES_CONFIG',
      `Kubernetes discovery cannot find the API server: ${why}. Run the connector in a pod with a service account token mounted (automountServiceAccountToken: true), or pass --kubeconfig with a file that names a server, its CA and a token or client certificate.`,
      cause === undefined ? {} : { cause },
    ),
  api: (status: number, path: string, detail: string) =>
    new PosternError(
      'POSTERN_ERR_KUBERNETES_API',
      `The Kubernetes API answered ${status} to ${path}: ${detail}.${status === 401 || status === 403 ? ' grant the connector list and watch on services and endpointslices in this namespace (the chart and the kustomize component render that Role), and check its token.' : ''}`,
    ),
  gone: (path: string) =>
    new PosternError(
      'POSTERN_ERR_KUBERNETES_GONE',
      `The Kubernetes API no longer has the resource version the watch of ${path} started from (410 Gone). The connector lists again; nothing to do unless this repeats.`,
    ),
  unreachable: (server: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_KUBERNETES_UNREACHABLE',
      `Cannot reach the Kubernetes API at ${server}: ${(cause as Error).message}. Check the address, the CA certificate and that a NetworkPolicy lets the connector reach the API server.`,
      { cause },
    ),
  malformed: (path: string, why: string) =>
    new PosternError(
      'POSTERN_ERR_KUBERNETES_MALFORMED',
      `The Kubernetes API sent something that is not a list or watch event for ${path}: ${why}. Check that --kubeconfig points at a Kubernetes API server and not at a proxy that rewrites answers.`,
    ),
} as const;
