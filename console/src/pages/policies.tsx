import { useEffect, useState, type DragEvent } from 'react';
import type { ApiError } from '../api';
import { ErrorMessage, PageHeader, Status } from '../components';
import type { AccessPolicy } from '../types';
import { asApiError, useApi, useResource } from '../use-resource';
import { OptionalList } from './optional-list';

/** Moves the item at `from` to index `to`. */
function moved<T>(list: readonly T[], from: number, to: number): T[] {
  const next = [...list];
  const [item] = next.splice(from, 1);
  if (item !== undefined) next.splice(to, 0, item);
  return next;
}

function isFromDocument(p: AccessPolicy): boolean {
  return p.owner?.startsWith('document:') ?? false;
}

function PolicySummary({ policy }: { policy: AccessPolicy }) {
  return (
    <div className="policy-body">
      <strong>{policy.name}</strong> <Status value={policy.action} />
      <div className="hint">{policy.description ?? describeConditions(policy.conditions)}</div>
    </div>
  );
}

function describeConditions(c: AccessPolicy['conditions']): string {
  const parts = Object.entries(c ?? {})
    .filter(([, v]) => Array.isArray(v) && v.length > 0)
    .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${(v ?? []).join(', ')}`);
  return parts.length === 0 ? 'everyone, everywhere' : parts.join('; ');
}

/**
 * Access policies in evaluation order (first match wins, default deny). Rows are reordered by
 * dragging, or with the Move up / Move down buttons from the keyboard, then saved at once.
 */
export function PoliciesPage() {
  const api = useApi();
  const loaded = useResource(async (a) => {
    const items = await a.list<AccessPolicy>('/access-policies');
    // The order's etag makes Save refuse (412) when someone else reordered meanwhile.
    const order = await a
      .request<{ etag?: string }>('GET', '/access-policies/order')
      .catch(() => undefined);
    return { items, etag: order?.etag };
  });
  const policies = { ...loaded, data: loaded.data?.items };
  const [order, setOrder] = useState<AccessPolicy[] | undefined>();
  const [dragging, setDragging] = useState<number | undefined>();
  const [saveError, setSaveError] = useState<ApiError | undefined>();
  const [announcement, setAnnouncement] = useState('');
  useEffect(() => setOrder(undefined), [policies.data]);
  // Policies from configuration documents come first and keep their document order; only
  // those created through the API are reordered here.
  const all = policies.data ?? [];
  const fixed = all.filter((p) => isFromDocument(p));
  const shown = order ?? all.filter((p) => !isFromDocument(p));
  const changed = order !== undefined;
  const move = (from: number, to: number): void => {
    if (to < 0 || to >= shown.length || from === to) return;
    setOrder(moved(shown, from, to));
    const position = fixed.length + to + 1;
    setAnnouncement(`${shown[from]?.name ?? ''} moved to position ${position} of ${all.length}.`);
  };
  const save = async (): Promise<void> => {
    setSaveError(undefined);
    try {
      const names = shown.map((p) => p.name);
      await api.request('PUT', '/access-policies/order', { names }, { ifMatch: loaded.data?.etag });
      setAnnouncement('Order saved.');
      policies.reload();
    } catch (err) {
      setSaveError(asApiError(err));
    }
  };
  const onDrop = (e: DragEvent, to: number): void => {
    e.preventDefault();
    if (dragging !== undefined) move(dragging, to);
    setDragging(undefined);
  };
  return (
    <>
      <PageHeader title="Access policies">
        <button type="button" disabled={!changed} onClick={() => void save()}>
          Save order
        </button>
        <button type="button" disabled={!changed} onClick={() => setOrder(undefined)}>
          Discard changes
        </button>
      </PageHeader>
      <p className="hint">
        Rules are evaluated from the top; the first rule that matches decides, and a session no rule
        matches is denied. Drag a rule, or use its Move buttons, then save the order.
      </p>
      <ErrorMessage error={saveError} title="The order was not saved:" />
      <p role="status" className="visually-hidden">
        {announcement}
      </p>
      <OptionalList
        resource={policies}
        route="GET /api/v1/access-policies"
        empty="No access policies: every session is denied."
      >
        {() => (
          <ol className="policy-list">
            {fixed.map((p, i) => (
              <li key={p.name} data-policy={p.name} className="fixed">
                <span className="drag-handle" aria-hidden="true" />
                <span className="policy-position">{i + 1}</span>
                <PolicySummary policy={p} />
                <span className="hint">fixed by {p.owner?.replace(/^document:/, '')}</span>
              </li>
            ))}
            {shown.map((p, i) => (
              <li
                key={p.name}
                draggable
                data-policy={p.name}
                className={dragging === i ? 'dragging' : undefined}
                onDragStart={(e) => {
                  e.dataTransfer.effectAllowed = 'move';
                  e.dataTransfer.setData('text/plain', p.name);
                  setDragging(i);
                }}
                onDragEnd={() => setDragging(undefined)}
                onDragOver={(e) => e.preventDefault()}
                onDrop={(e) => onDrop(e, i)}
              >
                <span className="drag-handle" aria-hidden="true">
                  ⠿
                </span>
                <span className="policy-position">{fixed.length + i + 1}</span>
                <PolicySummary policy={p} />
                <span className="row-actions">
                  <button type="button" disabled={i === 0} onClick={() => move(i, i - 1)}>
                    Move up<span className="visually-hidden"> {p.name}</span>
                  </button>
                  <button
                    type="button"
                    disabled={i === shown.length - 1}
                    onClick={() => move(i, i + 1)}
                  >
                    Move down<span className="visually-hidden"> {p.name}</span>
                  </button>
                </span>
              </li>
            ))}
          </ol>
        )}
      </OptionalList>
    </>
  );
}
