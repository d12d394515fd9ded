import {
  MAX_KUBERNETES_ADDRESSES,
  MAX_KUBERNETES_SERVICES,
  makeMessage,
  type KubernetesService,
  type Message,
} from '../../protocol/index.js';
import type { KubeItem } from './kube-client.js';

/** The annotation that marks a Service for discovery (any value but `false`). */
export const EXPOSE_ANNOTATION = 'postern.dev/expose';
/** The label every EndpointSlice carries with its Service's name. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Bytes of services per `kubernetes_services` message, well below the 1 MiB message cap. */
const MESSAGE_BUDGET = 512 * 1024;

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  ports?: { name?: string; port?: number; protocol?: string; targetPort?: number | string }[];
}
interface SliceBody {
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean | null } }[];
}

/** True when the Service asks to be discovered. */
export function isExposed(service: KubeItem): boolean {
  const value = service.metadata?.annotations?.[EXPOSE_ANNOTATION];
  return value !== undefined && !['false', '0', 'no'].includes(value.trim().toLowerCase());
}

/**
 * The exposed Services with their ports and the ready addresses of their EndpointSlices,
 * sorted by namespace and name.
 */
export function servicesSnapshot(
  services: Iterable<KubeItem>,
  slices: Iterable<KubeItem>,
): KubernetesService[] {
  const ready = readyAddresses(slices);
  const out: KubernetesService[] = [];
  for (const service of services) {
    if (!isExposed(service)) continue;
    const meta = service.metadata ?? {};
    const spec = (service['spec'] ?? {}) as ServiceSpec;
    const namespace = meta.namespace ?? '';
    const name = meta.name ?? '';
    const clusterIp = spec.clusterIP;
    out.push({
      namespace,
      name,
      type: spec.type ?? 'ClusterIP',
      headless: clusterIp === 'None',
      ...(clusterIp && clusterIp !== 'None' ? { clusterIp } : {}),
      expose: meta.annotations?.[EXPOSE_ANNOTATION] ?? '',
      ports: (spec.ports ?? [])
        .filter((p) => typeof p.port === 'number')
        .map((p) => ({
          name: p.name ?? '',
          port: p.port!,
          protocol: p.protocol ?? 'TCP',
          ...(p.targetPort === undefined ? {} : { targetPort: p.targetPort }),
        })),
      addresses: [...(ready.get(`${namespace}/${name}`) ?? [])]
        .sort()
        .slice(0, MAX_KUBERNETES_ADDRESSES),
    });
  }
  return out.sort((a, b) =>
    a.namespace === b.namespace
      ? a.name.localeCompare(b.name)
      : a.namespace.localeCompare(b.namespace),
  );
}

/** Ready endpoint addresses by `namespace/service`, from every slice of every Service. */
function readyAddresses(slices: Iterable<KubeItem>): Map<string, Set<string>> {
  const byService = new Map<string, Set<string>>();
  for (const slice of slices) {
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!service) continue;
    const key = `${slice.metadata?.namespace ?? ''}/${service}`;
    const set = byService.get(key) ?? new Set<string>();
    byService.set(key, set);
    for (const endpoint of (slice as SliceBody).endpoints ?? []) {
      // The API defines an absent `ready` as ready.
      if (endpoint.conditions?.ready === false) continue;
      for (const address of endpoint.addresses ?? []) set.add(address);
    }
  }
  return byService;
}

/**
 * The messages that carry a full snapshot: the first replaces what the edge holds for this
 * connector, later ones add to it, each small enough for the control stream.
 */
export function snapshotMessages(
  services: readonly KubernetesService[],
  error?: string,
): Message<'kubernetes_services'>[] {
  const parts: KubernetesService[][] = [[]];
  let bytes = 0;
  for (const service of services) {
    const size = JSON.stringify(service).length;
    const current = parts[parts.length - 1]!;
    if (
      current.length > 0 &&
      (bytes + size > MESSAGE_BUDGET || current.length >= MAX_KUBERNETES_SERVICES)
    ) {
      parts.push([service]);
      bytes = size;
    } else {
      current.push(service);
      bytes += size;
    }
  }
  return parts.map((part, index) =>
    makeMessage({
      type: 'kubernetes_services',
      replace: index === 0,
      services: part,
      ...(error === undefined || index > 0 ? {} : { error: error.slice(0, 4096) }),
    }),
  );
}
