import { useState, type FormEvent } from 'react';
import type { ApiError } from '../api';
import { EmptyState, ErrorMessage, formatTime, PageHeader, Status } from '../components';
import { keyState } from '../key-state';
import type { Group, ProvisioningKey } from '../types';
import { asApiError, useAction, useApi, useResource } from '../use-resource';
import { NewKeyValue } from './new-key-value';

/** Connector groups and their provisioning keys. */
export function GroupsPage() {
  const api = useApi();
  const groups = useResource((a) => a.list<Group>('/connector-groups'));
  const keys = useResource((a) => a.list<ProvisioningKey>('/provisioning-keys'));
  const [created, setCreated] = useState<ProvisioningKey | undefined>();
  const action = useAction(() => {
    groups.reload();
    keys.reload();
  });
  const act = action.run;
  const deleteGroup = (g: Group): void => {
    const question =
      `Delete connector group "${g.name}"? Its provisioning keys and revoked connectors are ` +
      'deleted with it; a group with live connectors is refused.';
    if (!window.confirm(question)) return;
    const path = `/connector-groups/${encodeURIComponent(g.name)}`;
    void act(() => api.request('DELETE', path, undefined, { ifMatch: g.etag }));
  };
  const keyAction = (k: ProvisioningKey, verb: 'revoke' | 'enable' | 'disable'): void => {
    if (verb === 'revoke' && !window.confirm('Revoke this key? It can never enroll again.')) return;
    const path = `/provisioning-keys/${encodeURIComponent(k.id)}/${verb}`;
    void act(() => api.request('POST', path, undefined, { ifMatch: k.etag }));
  };
  return (
    <>
      <PageHeader title="Connector groups & provisioning keys" />
      <ErrorMessage error={action.error} />
      <section aria-labelledby="groups-heading">
        <h2 id="groups-heading">Connector groups</h2>
        <ErrorMessage error={groups.error} />
        {groups.data?.length === 0 ? (
          <EmptyState>No connector groups yet.</EmptyState>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col">Auto delete</th>
                <th scope="col">Owner</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {groups.data?.map((g) => (
                <tr key={g.name}>
                  <th scope="row">{g.name}</th>
                  <td>{g.description ?? ''}</td>
                  <td>{g.auto_delete_after_days ? `${g.auto_delete_after_days} days` : 'off'}</td>
                  <td>{g.owner}</td>
                  <td>
                    {g.owner.startsWith('document:') ? (
                      <span className="hint">read-only</span>
                    ) : (
                      <button type="button" className="danger" onClick={() => deleteGroup(g)}>
                        Delete<span className="visually-hidden"> group {g.name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <CreateGroupForm onCreated={() => groups.reload()} />
      </section>
      <section aria-labelledby="keys-heading">
        <h2 id="keys-heading">Provisioning keys</h2>
        <ErrorMessage error={keys.error} />
        {created?.value && <NewKeyValue keyRecord={created} onDone={() => setCreated(undefined)} />}
        {keys.data?.length === 0 ? (
          <EmptyState>No provisioning keys yet.</EmptyState>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Key id</th>
                <th scope="col">Group</th>
                <th scope="col">Used</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data?.map((k) => (
                <tr key={k.id}>
                  <th scope="row">
                    <code>{k.id}</code>
                  </th>
                  <td>{k.group}</td>
                  <td>
                    {k.usage_count} / {k.max_usage}
                  </td>
                  <td>{k.expires_at ? formatTime(k.expires_at) : 'never'}</td>
                  <td>
                    <Status value={keyState(k, Date.now())} />
                  </td>
                  <td className="row-actions">
                    {!k.revoked && (
                      <>
                        <button
                          type="button"
                          onClick={() => keyAction(k, k.enabled ? 'disable' : 'enable')}
                        >
                          {k.enabled ? 'Disable' : 'Enable'}
                          <span className="visually-hidden"> key {k.id}</span>
                        </button>
                        <button
                          type="button"
                          className="danger"
                          onClick={() => keyAction(k, 'revoke')}
                        >
                          Revoke<span className="visually-hidden"> key {k.id}</span>
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <CreateKeyForm
          groups={groups.data ?? []}
          onCreated={(k) => {
            setCreated(k);
            keys.reload();
          }}
        />
      </section>
    </>
  );
}

function CreateGroupForm({ onCreated }: { onCreated: () => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    try {
      await api.request('POST', '/connector-groups', {
        name: name.trim(),
        ...(description.trim() ? { description: description.trim() } : {}),
      });
      setName('');
      setDescription('');
      onCreated();
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)} aria-labelledby="new-group">
      <h3 id="new-group">New group</h3>
      <label>
        Name
        <input name="group-name" required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Description
        <input
          name="group-description"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </label>
      <button type="submit">Create group</button>
      <ErrorMessage error={error} />
    </form>
  );
}

function CreateKeyForm({
  groups,
  onCreated,
}: {
  groups: readonly Group[];
  onCreated: (key: ProvisioningKey) => void;
}) {
  const api = useApi();
  const [group, setGroup] = useState('');
  const [maxUsage, setMaxUsage] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const chosen = group || groups[0]?.name || '';
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    try {
      const key = await api.request<ProvisioningKey>('POST', '/provisioning-keys', {
        group: chosen,
        ...(maxUsage ? { max_usage: Number(maxUsage) } : {}),
      });
      setMaxUsage('');
      onCreated(key);
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)} aria-labelledby="new-key">
      <h3 id="new-key">New provisioning key</h3>
      <label htmlFor="key-group">
        Group
        <select
          id="key-group"
          name="key-group"
          value={chosen}
          onChange={(e) => setGroup(e.target.value)}
          required
        >
          {groups.map((g) => (
            <option key={g.name} value={g.name}>
              {g.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Maximum uses
        <input
          name="key-max-usage"
          type="number"
          min={1}
          placeholder="100"
          value={maxUsage}
          onChange={(e) => setMaxUsage(e.target.value)}
        />
      </label>
      <button type="submit" disabled={groups.length === 0}>
        Create key
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}
