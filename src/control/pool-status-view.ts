import { z } from 'zod';
import { requestOutcomes, type PoolStatus } from '../traffic/index.js';

const time = (what: string) =>
  z.iso
    .datetime()
    .optional()
    .meta({ description: `ISO 8601 (UTC): ${what}; absent when none.` });
const health = z.enum(['up', 'down', 'unknown']);

const monitorStatus = z.object({
  name: z.string(),
  health,
  lastError: z.string().optional().meta({
    description:
      'Why the monitor does not see the node up (its last failed check); absent once it does.',
  }),
  lastFailure: z.string().optional().meta({
    description: 'The failure of the last failed check, kept after the node is up again.',
  }),
  lastFailureAt: time('the last failed check'),
  lastCheckAt: time('the last check'),
  checks: z.number().int(),
});

const nodeStatus = z.object({
  address: z.string(),
  state: z.enum(['active', 'draining', 'disabled']),
  source: z.enum(['config', 'discovery']),
  removed: z.boolean(),
  health,
  monitors: z.array(monitorStatus),
  ejectedUntil: time('until when passive health keeps the node out'),
  activeConnections: z.number().int(),
  picks: z.number().int(),
  failures: z.number().int(),
  consecutiveFailures: z.number().int(),
  lastError: z.string().optional().meta({
    description:
      'The last failed request or session on the node (see lastErrorAt); kept once it works.',
  }),
  lastErrorAt: time('the last failed request or session'),
  avgResponseMs: z.number().optional(),
  lastResponseMs: z.number().optional().meta({
    description: 'The last response time in ms (http: to the response head; tcp: to connect).',
  }),
  requests: z.partialRecord(z.enum(requestOutcomes), z.number().int()).meta({
    description:
      'HTTP requests sent to the node by outcome: status class (2xx...) or failure ' +
      '(connect, reset, timeout, failed, aborted); outcomes not seen are absent.',
  }),
  sessions: z.number().int().meta({
    description: 'Sessions started on the node by tcp/tls virtual servers (and HTTP upgrades).',
  }),
  weight: z.number().int(),
  priority: z.number().int().meta({
    description: "The node's priority group (discovered nodes: 1); see priority_enabled.",
  }),
  inUse: z.boolean().optional().meta({
    description:
      'With priority lists: the node is available and in a priority group in use now; absent when they are off.',
  }),
  maxConnections: z.number().int().meta({
    description: 'Most requests or sessions in progress on the node at once; 0 = no limit.',
  }),
  slowStart: z
    .object({ weight: z.number(), endsAt: z.iso.datetime() })
    .optional()
    .meta({ description: 'Set while the node is in slow start: its weight now and the end.' }),
});

const discoveryStatus = z.object({
  name: z.string(),
  type: z.enum(['A', 'AAAA', 'SRV']),
  nodes: z.number().int().optional(),
  lastSuccessAt: time('the last successful resolution'),
  lastError: z.string().optional(),
  lastErrorAt: time('the last failed resolution'),
  nextRefreshAt: time('the next query'),
  runsOn: z.literal('connector').optional(),
  reportedBy: z.string().optional(),
});

/** The read-only `status` of a pool in `GET /api/v1/pools[/:name]` (times as ISO 8601 strings). */
export const poolStatusViewSchema = z
  .object({
    name: z.string(),
    via: z.string().optional(),
    algorithm: z.string(),
    panicMode: z.enum(['all', 'none']),
    panic: z.boolean(),
    down: z.boolean(),
    available: z.number().int().meta({
      description:
        'Nodes taking new requests normally (with priority lists: of the groups in use).',
    }),
    priorityNodes: z.number().int().optional().meta({
      description: "Priority lists are on: the pool's priority_nodes; absent when they are off.",
    }),
    nodes: z.array(nodeStatus),
    discovery: discoveryStatus.optional(),
    persistence: z.enum(['cookie', 'source_ip']).optional(),
    persistenceEntries: z.number().int().optional(),
    queued: z.number().int().meta({
      description: 'Requests and sessions waiting for a node below its connection limit.',
    }),
    queueTimeouts: z.number().int().meta({
      description: 'Waits that ended in queue_timeout_ms since the pool first ran on this edge.',
    }),
  })
  .meta({ description: "A pool's live status on this edge (read-only)." });

/** A pool's status as the admin API shows it: like PoolStatus, with times as ISO 8601 strings. */
export type PoolStatusView = z.output<typeof poolStatusViewSchema>;

/** Epoch milliseconds as ISO 8601 (UTC); undefined stays undefined (absent in JSON). */
function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/**
 * Converts a pool's status for the admin API. The traffic layer keeps epoch milliseconds (cheap
 * to compare); the API shows ISO 8601 like every other time it serves. Fields beyond PoolStatus
 * (a `via` pool's `runsOn`, `reportedBy`) are kept.
 */
export function poolStatusView(status: PoolStatus): PoolStatusView {
  const discovery = status.discovery;
  return {
    ...status,
    // The response-time histogram is for /metrics only.
    nodes: status.nodes.map(({ responseTimes: _histogram, ...n }) => ({
      ...n,
      monitors: n.monitors.map((m) => ({
        ...m,
        lastFailureAt: iso(m.lastFailureAt),
        lastCheckAt: iso(m.lastCheckAt),
      })),
      ejectedUntil: iso(n.ejectedUntil),
      lastErrorAt: iso(n.lastErrorAt),
      slowStart: n.slowStart && { ...n.slowStart, endsAt: iso(n.slowStart.endsAt) as string },
    })),
    discovery:
      discovery === undefined
        ? undefined
        : {
            ...discovery,
            lastSuccessAt: iso(discovery.lastSuccessAt),
            lastErrorAt: iso(discovery.lastErrorAt),
            nextRefreshAt: iso(discovery.nextRefreshAt),
          },
  };
}
