import type { FastifyInstance, FastifyRequest } from 'fastify';

/** One application found by ZPA-style application learning, or by Kubernetes discovery. */
export type DiscoveredApplication = KubernetesDiscoveredApplication | AccessDiscoveredApplication;

/**
 * A concrete name users reached under a wildcard application (application learning), with
 * what the connector resolved it to.
 */
export interface AccessDiscoveredApplication {
  readonly source: 'access';
  /** The name users asked for. */
  readonly name: string;
  readonly port: number;
  /** `address:port` the connector connected to, as it last reported it. */
  readonly resolved_address: string | undefined;
  /** The wildcard application the access came under. */
  readonly application: string;
  readonly group: string;
  /** The connector that carried the last access. */
  readonly connector: string;
  readonly first_seen_at: string;
  readonly last_seen_at: string;
  /** Accesses seen by this edge. */
  readonly count: number;
}

/** One Service a connector discovered, as `GET /api/v1/discovered-applications` lists it. */
export interface KubernetesDiscoveredApplication {
  /** Where it was found; `kubernetes` for an annotated Service. */
  readonly source: 'kubernetes';
  readonly namespace: string;
  readonly service: string;
  /** The Service type (`ClusterIP`, `LoadBalancer`, …). */
  readonly type: string;
  /** `clusterIP: None`: reach it through a pool with DNS discovery. */
  readonly headless: boolean;
  readonly cluster_ip: string | undefined;
  /** The `postern.dev/expose` annotation's value. */
  readonly expose: string;
  readonly ports: readonly {
    name: string;
    port: number;
    protocol: string;
    target_port: number | string | undefined;
  }[];
  /** Ready endpoint addresses. */
  readonly addresses: readonly string[];
  readonly connector: string;
  readonly group: string;
  /** Whether that connector holds a tunnel to this edge now. */
  readonly connected: boolean;
  /** Now while the connector is connected, else when its tunnel went down. */
  readonly last_seen_at: string;
}

/** A connector whose discovery currently fails (for example: its Role is missing). */
export interface DiscoveryProblem {
  readonly connector: string;
  readonly group: string;
  readonly error: string;
}

/** What the listing answers. */
export interface DiscoveredApplications {
  readonly items: readonly DiscoveredApplication[];
  readonly errors: readonly DiscoveryProblem[];
}

type ListRequest = FastifyRequest<{ Querystring: { namespace?: string; group?: string } }>;

/**
 * `GET /discovered-applications[?namespace=&group=]`: what this edge's connectors discovered
 * (empty when none reports anything).
 */
export function registerDiscoveredApplications(
  api: FastifyInstance,
  source: (() => DiscoveredApplications) | undefined,
): void {
  api.get('/discovered-applications', (req: ListRequest) => {
    const all = source?.() ?? { items: [], errors: [] };
    const { namespace, group } = req.query;
    return {
      items: all.items.filter(
        (a) =>
          (namespace === undefined || ('namespace' in a && a.namespace === namespace)) &&
          (group === undefined || a.group === group),
      ),
      errors: all.errors.filter((e) => group === undefined || e.group === group),
    };
  });
}
