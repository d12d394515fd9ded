import { useState } from 'react';
import type { ApiError, Page } from '../api';
import { ErrorMessage } from '../components';
import { RecordTable } from '../record-table';
import { asApiError, useApi, useResource } from '../use-resource';
import { OptionalList } from './optional-list';

type Row = Record<string, unknown>;

/**
 * A log that may be long (activity, audit): the newest page, refreshed while only it is shown,
 * and older pages on request through `next_page_token`.
 */
export function PagedLog({
  path,
  columns,
  caption,
  empty,
  refreshMs,
}: {
  path: string;
  columns: readonly string[];
  caption: string;
  empty: string;
  refreshMs?: number;
}) {
  const api = useApi();
  const [older, setOlder] = useState<
    { items: Row[]; token: string | undefined; warning: string | undefined } | undefined
  >();
  const [error, setError] = useState<ApiError | undefined>();
  const first = useResource((a) => a.page<Row>(path), refreshMs && !older ? { refreshMs } : {});
  const list = {
    ...first,
    data: first.data ? [...first.data.items, ...(older?.items ?? [])] : undefined,
  };
  const next = older ? older.token : first.data?.next_page_token;
  // The edge answers from its own memory while the shared store cannot be read: say so.
  const warning = older?.warning ?? (first.data?.partial ? first.data.warning : undefined);
  const loadOlder = async (): Promise<void> => {
    if (next === undefined) return;
    setError(undefined);
    try {
      const page: Page<Row> = await api.page<Row>(path, next);
      setOlder({
        items: [...(older?.items ?? []), ...page.items],
        token: page.next_page_token,
        warning: page.partial ? page.warning : undefined,
      });
    } catch (err) {
      setError(asApiError(err));
    }
  };
  return (
    <>
      <div className="actions">
        <button
          type="button"
          onClick={() => {
            setOlder(undefined);
            first.reload();
          }}
        >
          Show newest
        </button>
        {refreshMs && !older && <span className="hint">Refreshed every {refreshMs / 1000} s.</span>}
      </div>
      {warning !== undefined && (
        <div className="partial-warning" role="status">
          <strong>Partial list:</strong> {warning}
        </div>
      )}
      <OptionalList resource={list} route={`GET /api/v1${path}`} empty={empty}>
        {(items) => <RecordTable items={items} preferred={columns} caption={caption} />}
      </OptionalList>
      <ErrorMessage error={error} />
      {next !== undefined && (
        <button type="button" onClick={() => void loadOlder()}>
          Load older entries
        </button>
      )}
    </>
  );
}
