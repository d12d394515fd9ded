import { Counter, Gauge, Histogram } from 'prom-client';
import type { MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';
import { requestOutcomes, responseBucketsSeconds, type PoolStatus } from '../traffic/index.js';

type NodeLabel = 'pool' | 'node';
type HistogramObject = MetricObjectWithValues<MetricValueWithName<NodeLabel>>;
const NODE_LABELS = ['pool', 'node'] as const;

/**
 * Per-node traffic metrics (HAProxy `show stat`, vTM per-node counters), read at scrape time
 * from the pools' status: the traffic path only bumps plain numbers on the node, and a node gone
 * from its pool (configuration or discovery) leaves no series behind, so discovery churn cannot
 * grow the registry. Counts carry over reloads with the node's runtime (by pool and address).
 */
export function registerPoolNodeMetrics(
  registry: Registry,
  pools: () => readonly PoolStatus[],
): void {
  const registers = [registry];
  new Counter({
    name: 'postern_edge_pool_node_requests_total',
    help: 'HTTP requests sent to each pool node, by outcome: 1xx..5xx (the node answered), connect, reset, timeout, failed (not the node), aborted (client left first).',
    labelNames: ['pool', 'node', 'outcome'] as const,
    registers,
    collect() {
      this.reset();
      for (const pool of pools()) {
        for (const n of pool.nodes) {
          for (const outcome of requestOutcomes) {
            const count = n.requests[outcome];
            if (count !== undefined) this.inc({ pool: pool.name, node: n.address, outcome }, count);
          }
        }
      }
    },
  });
  nodeCounter(registry, pools, {
    name: 'postern_edge_pool_node_sessions_total',
    help: 'Sessions started on each pool node by tcp/tls virtual servers (and HTTP upgrades).',
    value: (n) => n.sessions,
  });
  nodeGauge(registry, pools, {
    name: 'postern_edge_pool_node_active',
    help: 'Connections, sessions and requests in progress on each pool node (what the least connections algorithms compare).',
    value: (n) => n.activeConnections,
  });
  nodeGauge(registry, pools, {
    name: 'postern_edge_pool_node_up',
    help: 'Whether each pool node is up (1) or down (0) as health decides; a node no monitor checks and passive health has not ejected counts as up.',
    value: (n) => (n.health === 'down' ? 0 : 1),
  });
  registry.registerMetric(new NodeResponseHistogram(pools));
  nodeGauge(registry, pools, {
    name: 'postern_edge_pool_node_max_connections',
    help: 'Connection limit of each pool node (node_max_connections or its own max_connections); 0 = no limit.',
    value: (n) => n.maxConnections,
  });
  registerPoolQueueMetrics(registry, pools);
}

/** The pools' queues (requests waiting for a node below its limit), read at scrape time. */
function registerPoolQueueMetrics(registry: Registry, pools: () => readonly PoolStatus[]): void {
  new Gauge({
    name: 'postern_edge_pool_queue_length',
    help: 'Requests and sessions waiting in each pool queue for a node below its connection limit.',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const pool of pools()) this.set({ pool: pool.name }, pool.queued);
    },
  });
  new Counter({
    name: 'postern_edge_pool_queue_timeouts_total',
    help: 'Requests and sessions that waited queue_timeout_ms in a pool queue without getting a node.',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const pool of pools()) this.inc({ pool: pool.name }, pool.queueTimeouts);
    },
  });
}

type NodeStatus = PoolStatus['nodes'][number];

interface NodeSeries {
  readonly name: string;
  readonly help: string;
  readonly value: (node: NodeStatus) => number;
}

function nodeCounter(registry: Registry, pools: () => readonly PoolStatus[], s: NodeSeries): void {
  new Counter({
    name: s.name,
    help: s.help,
    labelNames: NODE_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const pool of pools()) {
        for (const n of pool.nodes) this.inc({ pool: pool.name, node: n.address }, s.value(n));
      }
    },
  });
}

function nodeGauge(registry: Registry, pools: () => readonly PoolStatus[], s: NodeSeries): void {
  new Gauge({
    name: s.name,
    help: s.help,
    labelNames: NODE_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const pool of pools()) {
        for (const n of pool.nodes) this.set({ pool: pool.name, node: n.address }, s.value(n));
      }
    },
  });
}

const HISTOGRAM = 'postern_edge_pool_node_response_seconds';
const HISTOGRAM_HELP =
  'Time to the response head (http) or to connect (tcp) of each pool node, in seconds.';

/**
 * Time to the response head (http) or to connect (tcp), per node. The buckets live on the node
 * (one fixed array each); this histogram only formats them at scrape time.
 */
class NodeResponseHistogram extends Histogram<NodeLabel> {
  readonly #pools: () => readonly PoolStatus[];

  constructor(pools: () => readonly PoolStatus[]) {
    super({
      name: HISTOGRAM,
      help: HISTOGRAM_HELP,
      labelNames: NODE_LABELS,
      buckets: [...responseBucketsSeconds],
      registers: [],
    });
    this.#pools = pools;
  }

  override get(): Promise<HistogramObject> {
    // Name, help, type and aggregator as prom-client set them on this metric; the values carry
    // `le` besides pool and node, as every histogram's bucket values do.
    const self = this as unknown as HistogramObject;
    const values = this.#values() as MetricValueWithName<NodeLabel>[];
    const { name, help, type, aggregator, collect } = self;
    return Promise.resolve({ name, help, type, aggregator, collect, values });
  }

  /** What the registry formats the text exposition from (prom-client looks for it first). */
  getForPromString(): Promise<HistogramObject> {
    return this.get();
  }

  #values(): MetricValueWithName<NodeLabel | 'le'>[] {
    const values: MetricValueWithName<NodeLabel | 'le'>[] = [];
    const bucket = `${HISTOGRAM}_bucket`;
    for (const pool of this.#pools()) {
      for (const n of pool.nodes) {
        const times = n.responseTimes;
        let cumulative = 0;
        responseBucketsSeconds.forEach((le, i) => {
          cumulative += times.buckets[i] ?? 0;
          const labels = { pool: pool.name, node: n.address, le };
          values.push({ metricName: bucket, labels, value: cumulative });
        });
        const labels = { pool: pool.name, node: n.address };
        values.push(
          { metricName: bucket, labels: { ...labels, le: '+Inf' }, value: times.count },
          { metricName: `${HISTOGRAM}_sum`, labels, value: times.sumSeconds },
          { metricName: `${HISTOGRAM}_count`, labels, value: times.count },
        );
      }
    }
    return values;
  }
}
