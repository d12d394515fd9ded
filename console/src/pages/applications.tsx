import { PageHeader, Status } from '../components';
import type { Application } from '../types';
import { useResource } from '../use-resource';
import { OptionalList } from './optional-list';

/** Application segments: destinations and ports users reach through connector groups. */
export function ApplicationsPage() {
  const apps = useResource((a) => a.list<Application>('/applications'));
  return (
    <>
      <PageHeader title="Applications" />
      <OptionalList
        resource={apps}
        route="GET /api/v1/applications"
        empty="No applications defined."
      >
        {(items) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Domains and networks</th>
                <th scope="col">Ports</th>
                <th scope="col">Connector groups</th>
                <th scope="col">State</th>
                <th scope="col">Health</th>
                <th scope="col">Owner</th>
              </tr>
            </thead>
            <tbody>
              {items.map((app) => (
                <tr key={app.name}>
                  <th scope="row">
                    {app.name}
                    {app.description && <div className="hint">{app.description}</div>}
                  </th>
                  <td>{[...(app.domains ?? []), ...(app.cidrs ?? [])].join(', ')}</td>
                  <td>{app.ports.join(', ')}</td>
                  <td>{app.connector_groups.join(', ')}</td>
                  <td>
                    <Status value={app.enabled === false ? 'disabled' : 'enabled'} />
                  </td>
                  <td>
                    <Status value={app.health?.state ?? 'unknown'} />
                    <div className="hint">{reportingLabel(app)}</div>
                  </td>
                  <td>{app.owner ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </OptionalList>
    </>
  );
}

/** How the application's health is reported (none, on access, continuous). */
function reportingLabel(app: Application): string {
  return (app.health?.reporting ?? app.health_reporting ?? 'on_access').replace('_', ' ');
}
