import { useRef } from 'react';
import { EmptyState, ErrorMessage, formatRate, Link, PageHeader } from '../components';
import { fetchFigures, type EdgeFigures } from '../metrics';
import type { Connector, Group } from '../types';
import { useResource } from '../use-resource';

interface GroupCounts {
  name: string;
  up: number;
  draining: number;
  down: number;
  /** Deleted connectors whose records remain until their group is deleted; never offline. */
  revoked: number;
  sessions: number;
}

/** Connectors up and down per group, from the groups and connectors lists. */
function countByGroup(groups: readonly Group[], connectors: readonly Connector[]): GroupCounts[] {
  const rows = new Map<string, GroupCounts>();
  const row = (name: string): GroupCounts => {
    let r = rows.get(name);
    if (!r) rows.set(name, (r = { name, up: 0, draining: 0, down: 0, revoked: 0, sessions: 0 }));
    return r;
  };
  for (const g of groups) row(g.name);
  for (const c of connectors) {
    const r = row(c.group);
    if (c.status === 'revoked') {
      r.revoked++;
      continue;
    }
    if (c.status === 'connected') r.up++;
    else if (c.status === 'draining') r.draining++;
    else r.down++;
    r.sessions += c.active_sessions;
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Throughput over the last refresh interval, from two samples of the byte counter. */
function useThroughput(): {
  rate: number | undefined;
  streams: number | undefined;
  error: string | undefined;
} {
  const previous = useRef<EdgeFigures | undefined>(undefined);
  const figures = useResource(
    async () => {
      const now = await fetchFigures();
      const before = previous.current;
      previous.current = now;
      const seconds = before ? (now.at - before.at) / 1000 : 0;
      const rate =
        before && seconds > 0
          ? Math.max(0, now.bytesTotal - before.bytesTotal) / seconds
          : undefined;
      return { rate, streams: now.openStreams };
    },
    { refreshMs: 3000 },
  );
  return {
    rate: figures.data?.rate,
    streams: figures.data?.streams,
    error: figures.error?.message,
  };
}

/** The overview: connector health per group, live sessions, throughput. */
export function OverviewPage() {
  const data = useResource(
    async (api) => ({
      groups: await api.list<Group>('/connector-groups'),
      connectors: await api.list<Connector>('/connectors'),
    }),
    { refreshMs: 3000 },
  );
  const throughput = useThroughput();
  const rows = data.data ? countByGroup(data.data.groups, data.data.connectors) : [];
  const total = rows.reduce(
    (t, r) => ({
      up: t.up + r.up,
      down: t.down + r.down,
      revoked: t.revoked + r.revoked,
      sessions: t.sessions + r.sessions,
    }),
    { up: 0, down: 0, revoked: 0, sessions: 0 },
  );
  return (
    <>
      <PageHeader title="Overview" />
      <ErrorMessage error={data.error} />
      <section aria-label="Summary" className="cards">
        <Figure label="Connectors online" value={data.data ? String(total.up) : '—'} />
        <Figure
          label="Connectors offline"
          value={data.data ? String(total.down) : '—'}
          note={total.revoked > 0 ? `not counted: ${total.revoked} revoked` : undefined}
        />
        <Figure label="Live sessions" value={data.data ? String(total.sessions) : '—'} />
        <Figure
          label="Throughput"
          value={throughput.rate === undefined ? '—' : formatRate(throughput.rate)}
          note={
            throughput.error ??
            (throughput.streams === undefined ? undefined : `${throughput.streams} open streams`)
          }
        />
      </section>
      <section aria-labelledby="by-group">
        <h2 id="by-group">Connectors by group</h2>
        {data.data && rows.length === 0 ? (
          <EmptyState>
            No connector groups yet. <Link to="/groups">Create one</Link> and a provisioning key to
            enroll a connector.
          </EmptyState>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Online</th>
                <th scope="col">Draining</th>
                <th scope="col">Offline</th>
                <th scope="col">Revoked</th>
                <th scope="col">Live sessions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.name}>
                  <th scope="row">{r.name}</th>
                  <td>{r.up}</td>
                  <td>{r.draining}</td>
                  <td className={r.down > 0 ? 'bad' : undefined}>{r.down}</td>
                  <td>{r.revoked}</td>
                  <td>{r.sessions}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

function Figure({
  label,
  value,
  note,
}: {
  label: string;
  value: string;
  note?: string | undefined;
}) {
  return (
    <div className="card">
      <div className="card-label">{label}</div>
      <div className="card-value">{value}</div>
      {note && <div className="card-note">{note}</div>}
    </div>
  );
}
