import { useOperation } from '../capabilities';
import { EmptyState, ErrorMessage, formatTime, PageHeader, Status } from '../components';
import type { Connector } from '../types';
import { useAction, useApi, useResource } from '../use-resource';

const DRAIN_PATH = '/api/v1/connectors/{id}/drain';
const UNDRAIN_PATH = '/api/v1/connectors/{id}/undrain';

/** Connectors with their live status; drain and undrain (when the edge offers them) and delete. */
export function ConnectorsPage() {
  const api = useApi();
  const connectors = useResource((a) => a.list<Connector>('/connectors'), { refreshMs: 2000 });
  const canDrain = useOperation('POST', DRAIN_PATH);
  const canUndrain = useOperation('POST', UNDRAIN_PATH);
  const action = useAction(() => connectors.reload());
  const act = action.run;
  const remove = (c: Connector): void => {
    const question = `Delete connector ${c.id}? Its certificate is revoked and its tunnels close now.`;
    if (!window.confirm(question)) return;
    const path = `/connectors/${encodeURIComponent(c.id)}`;
    void act(() => api.request('DELETE', path, undefined, { ifMatch: c.etag }));
  };
  const drain = (c: Connector, action: 'drain' | 'undrain'): void => {
    const path = `/connectors/${encodeURIComponent(c.id)}/${action}`;
    void act(() => api.request('POST', path, undefined, { ifMatch: c.etag }));
  };
  const list = connectors.data;
  return (
    <>
      <PageHeader title="Connectors" />
      <ErrorMessage error={action.error} />
      <ErrorMessage error={connectors.error} />
      {list?.length === 0 ? (
        <EmptyState>
          No connectors have enrolled yet. Create a provisioning key under Groups &amp; keys and
          start <code>postern connector --provision-key …</code> next to your applications.
        </EmptyState>
      ) : (
        <table aria-describedby="connectors-note">
          <thead>
            <tr>
              <th scope="col">Connector</th>
              <th scope="col">Group</th>
              <th scope="col">Status</th>
              <th scope="col">Sessions</th>
              <th scope="col">Address</th>
              <th scope="col">Version</th>
              <th scope="col">Last seen</th>
              <th scope="col">Certificate until</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list?.map((c) => (
              <tr key={c.id} data-connector={c.id}>
                <th scope="row">
                  <code>{c.id}</code>
                  {c.ephemeral && <span className="tag">ephemeral</span>}
                </th>
                <td>{c.group}</td>
                <td>
                  <Status value={c.status} />
                </td>
                <td>{c.active_sessions}</td>
                <td>{c.remote_address ?? c.public_ip ?? '—'}</td>
                <td>{c.version ?? '—'}</td>
                <td>{formatTime(c.last_seen_at)}</td>
                <td>{formatTime(c.cert_not_after)}</td>
                <td className="row-actions">
                  {canDrain && c.status === 'connected' && (
                    <button type="button" onClick={() => drain(c, 'drain')}>
                      Drain<span className="visually-hidden"> connector {c.id}</span>
                    </button>
                  )}
                  {canUndrain && c.status === 'draining' && (
                    <button type="button" onClick={() => drain(c, 'undrain')}>
                      Undrain<span className="visually-hidden"> connector {c.id}</span>
                    </button>
                  )}
                  {c.status !== 'revoked' && (
                    <button type="button" className="danger" onClick={() => remove(c)}>
                      Delete<span className="visually-hidden"> connector {c.id}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p id="connectors-note" className="hint">
        Status is this edge&apos;s view, refreshed every 2 seconds.
        {!canDrain &&
          ' This edge does not offer draining from the API; a connector drains when it is stopped (SIGTERM).'}
      </p>
    </>
  );
}
