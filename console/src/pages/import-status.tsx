import { EmptyState, ErrorMessage, formatTime, PageHeader, Status } from '../components';
import type { ImportStatus } from '../types';
import { useResource } from '../use-resource';

/** The configuration importer: the running generation, and why the last import failed. */
export function ImportStatusPage() {
  const status = useResource((a) => a.request<ImportStatus>('GET', '/import/status'), {
    refreshMs: 3000,
  });
  const s = status.data;
  return (
    <>
      <PageHeader title="Configuration import" />
      <ErrorMessage error={status.error} />
      {s?.enabled === false && (
        <EmptyState>
          This edge watches no configuration directory (start it with <code>--config-dir</code> to
          import documents).
        </EmptyState>
      )}
      {s && s.enabled !== false && (
        <>
          <dl className="facts">
            <dt>Last import</dt>
            <dd>
              <Status value={s.ok ? 'ok' : 'failed'} />
              {s.code && (
                <>
                  {' '}
                  <code className="error-code">{s.code}</code>
                </>
              )}
            </dd>
            <dt>Running generation</dt>
            <dd>{s.generation ?? '—'}</dd>
            <dt>Last applied</dt>
            <dd>{formatTime(s.lastSuccessAt)}</dd>
            <dt>Last attempt</dt>
            <dd>{formatTime(s.lastAttemptAt)}</dd>
          </dl>
          {!s.ok && (
            <section aria-labelledby="problems-heading" className="error" role="alert">
              <h2 id="problems-heading">Why the last import was refused</h2>
              <p>The running configuration is unchanged. Fix these and save the documents again:</p>
              <table>
                <thead>
                  <tr>
                    <th scope="col">File</th>
                    <th scope="col">Line</th>
                    <th scope="col">Path</th>
                    <th scope="col">Problem</th>
                  </tr>
                </thead>
                <tbody>
                  {(s.problems ?? []).map((p, i) => (
                    <tr key={i}>
                      <td>
                        <code>{p.file}</code>
                      </td>
                      <td>{p.line > 0 ? `${p.line}:${p.column}` : '—'}</td>
                      <td>
                        <code>{p.path || '(document)'}</code>
                      </td>
                      <td>
                        {p.message}
                        {p.code && <code className="error-code"> {p.code}</code>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
          <section aria-labelledby="files-heading">
            <h2 id="files-heading">Documents</h2>
            {(s.files ?? []).length === 0 ? (
              <EmptyState>No documents in the directory.</EmptyState>
            ) : (
              <ul className="plain">
                {(s.files ?? []).map((f) => (
                  <li key={f}>
                    <code>{f}</code>
                  </li>
                ))}
              </ul>
            )}
            {(s.referencedFiles ?? []).length > 0 && (
              <p className="hint">
                Also read through valueFrom: {(s.referencedFiles ?? []).join(', ')}
              </p>
            )}
          </section>
        </>
      )}
    </>
  );
}
