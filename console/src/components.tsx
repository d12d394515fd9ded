import type { MouseEvent, ReactNode } from 'react';
import type { ApiError } from './api';
import { BASE, navigate } from './router';

/** An API error as the admin sees it: the code, then the message (and any problems). */
export function ErrorMessage({ error, title }: { error: ApiError | undefined; title?: string }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {title && <strong>{title} </strong>}
      <code className="error-code">{error.code}</code> {error.message}
      {error.problems.length > 0 && (
        <ul>
          {error.problems.map((p, i) => (
            <li key={i}>{describeProblem(p)}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function describeProblem(p: unknown): string {
  if (typeof p !== 'object' || p === null) return String(p);
  const o = p as Record<string, unknown>;
  const where = [o.file, o.line, o.column].filter((x) => x !== undefined && x !== 0).join(':');
  const path = typeof o.path === 'string' && o.path !== '' ? `${o.path}: ` : '';
  return `${where ? `${where} ` : ''}${path}${typeof o.message === 'string' ? o.message : JSON.stringify(p)}`;
}

/** A page's title and optional actions. */
export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1 tabIndex={-1}>{title}</h1>
      {children && <div className="actions">{children}</div>}
    </header>
  );
}

/** Shown where a list has nothing in it, or the edge has no such list. */
export function EmptyState({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

const STATUS_TONE: Readonly<Record<string, string>> = {
  connected: 'good',
  up: 'good',
  unhealthy: 'warn',
  ok: 'good',
  allow: 'good',
  enabled: 'good',
  draining: 'warn',
  unknown: 'muted',
  disconnected: 'bad',
  down: 'bad',
  revoked: 'muted',
  disabled: 'muted',
  expired: 'muted',
  exhausted: 'warn',
  deny: 'bad',
  failed: 'bad',
  panic: 'warn',
};

/** A short status word with a colour that is never the only signal (the word is there too). */
export function Status({ value }: { value: string }) {
  return <span className={`status status-${STATUS_TONE[value] ?? 'muted'}`}>{value}</span>;
}

/** An in-console link that navigates without reloading. */
export function Link({
  to,
  children,
  current,
}: {
  to: string;
  children: ReactNode;
  current?: boolean;
}) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>): void => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={BASE + to} onClick={onClick} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

/** A time as the admin's locale shows it, or a dash. */
export function formatTime(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** Bytes per second in B/s, kB/s, MB/s or GB/s. */
export function formatRate(bytesPerSecond: number): string {
  const units = ['B/s', 'kB/s', 'MB/s', 'GB/s'];
  let value = bytesPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 && unit > 0 ? 1 : 0)} ${units[unit]}`;
}
