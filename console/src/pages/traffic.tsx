import { EmptyState, ErrorMessage, formatTime, PageHeader, Status } from '../components';
import type { Pool, PoolNode, VirtualServer } from '../types';
import { useResource } from '../use-resource';

/** Virtual servers, and pools with the live health of each node. */
export function TrafficPage() {
  const servers = useResource((a) => a.list<VirtualServer>('/virtual-servers'), {
    refreshMs: 5000,
  });
  const pools = useResource((a) => a.list<Pool>('/pools'), { refreshMs: 3000 });
  return (
    <>
      <PageHeader title="Virtual servers & pools" />
      <section aria-labelledby="vs-heading">
        <h2 id="vs-heading">Virtual servers</h2>
        <ErrorMessage error={servers.error} />
        {servers.data?.length === 0 ? (
          <EmptyState>No virtual servers.</EmptyState>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Protocol</th>
                <th scope="col">Listens on</th>
                <th scope="col">Pool</th>
                <th scope="col">Owner</th>
              </tr>
            </thead>
            <tbody>
              {servers.data?.map((v) => (
                <tr key={v.name}>
                  <th scope="row">{v.name}</th>
                  <td>{v.protocol}</td>
                  <td>
                    <code>{v.listen}</code>
                  </td>
                  <td>{v.pool ?? '—'}</td>
                  <td>{v.owner}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="pools-heading">
        <h2 id="pools-heading">Pools</h2>
        <ErrorMessage error={pools.error} />
        {pools.data?.length === 0 && <EmptyState>No pools.</EmptyState>}
        {pools.data?.map((p) => (
          <PoolCard key={p.name} pool={p} />
        ))}
      </section>
    </>
  );
}

function poolState(p: Pool): string {
  if (!p.status) return 'unknown';
  if (p.status.down) return 'down';
  if (p.status.panic) return 'panic';
  return 'up';
}

function PoolCard({ pool }: { pool: Pool }) {
  const nodes: PoolNode[] = pool.status?.nodes ?? [];
  const id = `pool-${pool.name}`;
  return (
    <article className="pool" aria-labelledby={id}>
      <h3 id={id}>
        {pool.name} <Status value={poolState(pool)} />
      </h3>
      <p className="hint">
        {pool.via ? `Through connector group ${pool.via}` : 'Direct from the edge'}
        {pool.status &&
          ` · ${pool.status.algorithm} · ${pool.status.available} of ${nodes.length} nodes available`}
        {queueOf(pool)}
        {` · owner ${pool.owner}`}
      </p>
      {nodes.length === 0 ? (
        <EmptyState>No nodes.</EmptyState>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Health</th>
              <th scope="col">State</th>
              <th scope="col">Source</th>
              <th scope="col">Weight</th>
              <th scope="col">Requests</th>
              <th scope="col">Connections</th>
              <th scope="col">Failures</th>
              <th scope="col">Response</th>
              <th scope="col">Last failed request</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <tr key={n.address}>
                <th scope="row">
                  <code>{n.address}</code>
                  {n.removed && <span className="tag">removed</span>}
                </th>
                <td>
                  <Status value={n.health} />
                </td>
                <td>{n.state}</td>
                <td>{n.source}</td>
                <td>
                  {n.slowStart ? `${n.slowStart.weight} of ${n.weight} (slow start)` : n.weight}
                </td>
                <td>{trafficOf(n)}</td>
                <td>{connectionsOf(n)}</td>
                <td>{n.failures}</td>
                <td>{n.avgResponseMs === undefined ? '—' : `${n.avgResponseMs} ms`}</td>
                <td>
                  {n.lastError ?? ''}
                  {/* A past failure of the node's traffic, kept once it works again: say when. */}
                  {n.lastErrorAt !== undefined && (
                    <div className="hint">{formatTime(n.lastErrorAt)}</div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}

/** Connections in progress, against the node's limit when it has one (`3 / 10`). */
function connectionsOf(n: PoolNode): string {
  const max = n.maxConnections ?? 0;
  return max > 0 ? `${n.activeConnections} / ${max}` : String(n.activeConnections);
}

/** The pool's queue (` · queue 2 waiting · 1 timed out`), when it has one or someone waits. */
function queueOf(pool: Pool): string {
  const queued = pool.status?.queued ?? 0;
  const timeouts = pool.status?.queueTimeouts ?? 0;
  if ((pool.queue_timeout_ms ?? 0) <= 0 && queued === 0 && timeouts === 0) return '';
  return ` · queue ${queued} waiting · ${timeouts} timed out`;
}

/** A node's requests by outcome (`2xx 10 · 5xx 1`), or its session count for tcp/tls. */
function trafficOf(n: PoolNode): string {
  const requests = Object.entries(n.requests ?? {}).map(
    ([outcome, count]) => `${outcome} ${count}`,
  );
  if (requests.length > 0) return requests.join(' · ');
  return n.sessions ? `${n.sessions} sessions` : '—';
}
