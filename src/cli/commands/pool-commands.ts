import type { Command } from 'commander';
import type { PoolStatusView } from '../../control/index.js';
import { AdminClient, type AdminFlags } from '../admin-client.js';
import { printTable } from '../output.js';
import { adminOptions } from './admin-commands.js';

type NodeView = PoolStatusView['nodes'][number];

/** A pool as `GET /api/v1/pools[/{name}]` serves it (the fields these commands read). */
interface PoolItem {
  readonly name: string;
  readonly via?: string;
  readonly algorithm?: string;
  readonly owner?: string;
  readonly nodes?: readonly { address: string }[];
  /** Absent while the pool does not run on this edge. */
  readonly status?: PoolStatusView;
}

/** Where a pool comes from: the document file it was read from, or `api`. */
function source(owner: string | undefined): string {
  return owner?.startsWith('document:') ? owner.slice('document:'.length) : (owner ?? '-');
}

/** One `postern pools list` row. */
function poolRow(pool: PoolItem): Record<string, unknown> {
  const status = pool.status;
  // Nodes without health monitors are `unknown` yet take traffic: count what the pool can use.
  const up = status?.available;
  const total = status?.nodes.filter((n) => !n.removed).length ?? pool.nodes?.length ?? 0;
  return {
    name: pool.name,
    via: pool.via ?? 'direct',
    algorithm: status?.algorithm ?? pool.algorithm,
    nodes: `${up === undefined ? '-' : String(up)}/${String(total)}`,
    queued: status?.queued,
    source: source(pool.owner),
  };
}

/** A node's weight, with its current one while in slow start: `2 (slow start 1)`. */
function weightCell(node: NodeView): string {
  if (node.slowStart === undefined) return String(node.weight);
  return `${String(node.weight)} (slow start ${String(Math.round(node.slowStart.weight))})`;
}

/** Requests by outcome (`2xx 120 5xx 3`), or the session count of a tcp/tls pool. */
function requestsCell(node: NodeView): string {
  const outcomes = Object.entries(node.requests).filter(([, n]) => n !== undefined && n > 0);
  const requests = outcomes.map(([outcome, n]) => `${outcome} ${String(n)}`).join(' ');
  if (node.sessions > 0) return [requests, `${String(node.sessions)} sessions`].join(' ').trim();
  return requests === '' ? '0' : requests;
}

/** One `postern pools status` row of a node: its cells as the table prints them. */
export function poolNodeRow(node: NodeView): Record<string, unknown> {
  const limit = node.maxConnections > 0 ? `/${String(node.maxConnections)}` : '';
  const state = node.removed ? `${node.state} (removed)` : node.state;
  return {
    address: node.address,
    health: node.ejectedUntil === undefined ? node.health : `${node.health} (ejected)`,
    state,
    weight: weightCell(node),
    // Only with priority lists (inUse is absent without them): `2 (in use)`, `1 (standby)`.
    ...(node.inUse === undefined
      ? {}
      : { priority: `${String(node.priority)} (${node.inUse ? 'in use' : 'standby'})` }),
    active: `${String(node.activeConnections)}${limit}`,
    requests: requestsCell(node),
    failures: String(node.failures),
    response: node.avgResponseMs === undefined ? '-' : `${node.avgResponseMs.toFixed(1)} ms`,
  };
}

/** The line above the node table: algorithm, via, panic and queue of the pool. */
function poolHeader(pool: PoolItem, status: PoolStatusView): string {
  // `panic` and `down` both mean every active node is down; the pool's panic mode decides which.
  const panic = status.panic
    ? 'yes (all nodes down: sending to all)'
    : status.down
      ? 'down (all nodes down: refusing)'
      : `no (mode ${status.panicMode})`;
  const parts = [
    `pool ${pool.name}`,
    `algorithm ${status.algorithm}`,
    `via ${status.via ?? 'direct'}`,
    `available ${String(status.available)}/${String(status.nodes.filter((n) => !n.removed).length)}`,
    `panic ${panic}`,
    `queued ${String(status.queued)} (timeouts ${String(status.queueTimeouts)})`,
  ];
  if (status.priorityNodes !== undefined)
    parts.push(`priority lists (keep ${String(status.priorityNodes)} in use)`);
  if (status.discovery) parts.push(`discovery ${status.discovery.type} ${status.discovery.name}`);
  return `${parts.join('  ')}\n`;
}

/** `postern pools list|status`: pools and the live status of their nodes (like HAProxy `show stat`). */
export function poolsCommand(program: Command): void {
  const pools = program.command('pools').description('show pools and the status of their nodes');
  adminOptions(pools.command('list'))
    .description(
      'list pools: algorithm, nodes available/total, queued requests, where each is defined',
    )
    .action(async (o: AdminFlags & { json?: boolean }) => {
      const client = await AdminClient.fromFlags(o);
      const items = await client.list<PoolItem>('/pools');
      if (o.json) {
        printTable(items as unknown as Record<string, unknown>[], [], true);
        return;
      }
      printTable(items.map(poolRow), ['name', 'via', 'algorithm', 'nodes', 'queued', 'source']);
    });
  adminOptions(pools.command('status'))
    .description("show a pool's live status: health, load and requests of each node")
    .argument('<name>', 'pool name')
    .action(async (name: string, o: AdminFlags & { json?: boolean }) => {
      const client = await AdminClient.fromFlags(o);
      const pool = await client.request<PoolItem>('GET', `/pools/${encodeURIComponent(name)}`);
      if (o.json) {
        process.stdout.write(`${JSON.stringify(pool, null, 2)}\n`);
        return;
      }
      if (pool.status === undefined) {
        process.stdout.write(`pool ${pool.name}: not running on this edge (no status)\n`);
        return;
      }
      process.stdout.write(poolHeader(pool, pool.status));
      const priorities = pool.status.priorityNodes !== undefined;
      printTable(pool.status.nodes.map(poolNodeRow), [
        'address',
        'health',
        'state',
        'weight',
        ...(priorities ? ['priority'] : []),
        'active',
        'requests',
        'failures',
        'response',
      ]);
    });
}
