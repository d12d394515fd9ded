export { KubernetesDiscovery } from './kubernetes-discovery.js';
export type { KubernetesDiscoveryOptions } from './kubernetes-discovery.js';
export { inClusterConnection, kubeconfigConnection, SERVICE_ACCOUNT_DIR } from './kube-config.js';
export type { KubeConnection } from './kube-config.js';
export { KubeClient } from './kube-client.js';
export type { KubeItem, KubeList, KubeMeta, WatchEvent } from './kube-client.js';
export { ResourceWatcher } from './resource-watcher.js';
export type { ResourceWatcherOptions } from './resource-watcher.js';
export {
  EXPOSE_ANNOTATION,
  SERVICE_NAME_LABEL,
  isExposed,
  servicesSnapshot,
  snapshotMessages,
} from './service-snapshot.js';
export { kubernetesErrors } from './errors.js';
export { startProbeServer } from './probe-server.js';
export type { ProbeServer, ProbeState } from './probe-server.js';
