import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStatus } from '../traffic/index.js';
import type { ConnectorRegistry } from './connector-registry.js';
import { registerPoolNodeMetrics } from './pool-node-metrics.js';

/** The edge's Prometheus metrics, one registry per edge so several can share a process. */
export class EdgeMetrics {
  readonly registry = new Registry();
  readonly openStreams = new Gauge({
    name: 'postern_edge_open_streams',
    help: 'Data streams open through connector tunnels on this edge.',
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'postern_edge_session_bytes_total',
    help: 'Bytes carried for client sessions, by direction (to_upstream, to_client).',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly sessions = new Counter({
    name: 'postern_edge_sessions_total',
    help: 'Client sessions ended, by virtual server and close reason.',
    labelNames: ['virtual_server', 'reason'] as const,
    registers: [this.registry],
  });
  readonly accessSessionsOpen = new Gauge({
    name: 'postern_edge_access_open_sessions',
    help: 'User access sessions (postern tcp through the access proxy) open now, by client type.',
    labelNames: ['client_type'] as const,
    registers: [this.registry],
  });
  readonly accessSessions = new Counter({
    name: 'postern_edge_access_sessions_total',
    help: 'User access sessions ended, by client type and close reason.',
    labelNames: ['client_type', 'reason'] as const,
    registers: [this.registry],
  });
  readonly accessBytes = new Counter({
    name: 'postern_edge_access_session_bytes_total',
    help: 'Bytes carried for ended user access sessions, by direction (to_upstream, to_client).',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'postern_edge_http_requests_total',
    help: 'HTTP requests answered by http/https virtual servers, by virtual server and status.',
    labelNames: ['virtual_server', 'status'] as const,
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: 'postern_edge_virtual_server_connections_refused_total',
    help: 'Client connections closed unserved because the virtual server was at max_connections.',
    labelNames: ['virtual_server'] as const,
    registers: [this.registry],
  });
  readonly dialFailures = new Counter({
    name: 'postern_edge_dial_failures_total',
    help: 'Failed dials to upstreams, by reason (POSTERN_ERR_* code).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly enrollments = new Counter({
    name: 'postern_edge_enrollments_total',
    help: 'Connector enrollment attempts, by result (ok or POSTERN_ERR_* code).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly tunnelRejections = new Counter({
    name: 'postern_edge_tunnel_rejections_total',
    help: 'Tunnel connections refused before a session started, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(connectors: ConnectorRegistry, options: { defaultMetrics?: boolean } = {}) {
    const registry = this.registry;
    new Gauge({
      name: 'postern_edge_connected_connectors',
      help: 'Connectors holding a tunnel to this edge, by connector group.',
      labelNames: ['group'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const t of connectors.list()) this.inc({ group: t.group });
      },
    });
    new Gauge({
      name: 'postern_edge_tunnels',
      help: 'Tunnels (TLS connections with a mux session) held by this edge.',
      registers: [registry],
      collect() {
        this.set(connectors.list().length);
      },
    });
    if (options.defaultMetrics)
      collectDefaultMetrics({ register: registry, prefix: 'postern_edge_' });
  }

  /**
   * Registers whether each virtual server in force listens (1) or not (0: an API server whose
   * address was taken when the edge started), read at scrape time.
   */
  registerVirtualServers(servers: () => Iterable<{ name: string; listening: boolean }>): void {
    new Gauge({
      name: 'postern_edge_virtual_server_listening',
      help: 'Whether each virtual server in force listens on its address (1) or could not bind it (0).',
      labelNames: ['virtual_server'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const vs of servers()) this.set({ virtual_server: vs.name }, vs.listening ? 1 : 0);
      },
    });
  }

  /**
   * Registers pool node health and per-node traffic (requests, sessions, in progress, response
   * times, up), read at scrape time from the running pools' status.
   */
  registerPoolHealth(pools: () => Iterable<PoolStatus>): void {
    const snapshot = scrapeSnapshot(pools);
    registerPoolNodeMetrics(this.registry, snapshot);
    new Gauge({
      name: 'postern_edge_pool_nodes',
      help: 'Nodes of each pool (configured and discovered), by combined health (up, down, unknown).',
      labelNames: ['pool', 'health'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const pool of snapshot()) {
          for (const health of ['up', 'down', 'unknown'] as const)
            this.set({ pool: pool.name, health }, 0);
          for (const node of pool.nodes) this.inc({ pool: pool.name, health: node.health });
        }
      },
    });
    new Gauge({
      name: 'postern_edge_pool_available_nodes',
      help: 'Nodes of each pool taking new sessions normally (active and not down).',
      labelNames: ['pool'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const pool of snapshot()) this.set({ pool: pool.name }, pool.available);
      },
    });
  }
}

/**
 * The pools' status, built once per scrape: the registry collects every metric in the same
 * turn, so one snapshot, dropped after that turn, serves all of them.
 */
function scrapeSnapshot(pools: () => Iterable<PoolStatus>): () => readonly PoolStatus[] {
  let taken: readonly PoolStatus[] | undefined;
  return () => {
    if (taken === undefined) {
      taken = [...pools()];
      queueMicrotask(() => {
        taken = undefined;
      });
    }
    return taken;
  };
}
