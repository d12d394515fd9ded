import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditFilter, AuditRecord, Store } from '../store/index.js';
import { controlErrors } from './errors.js';
import { decodePageToken, encodePageToken, pageLimit, type PageQuery } from './pagination.js';

type AuditQuery = PageQuery & {
  kind?: string;
  actor?: string;
  since?: string;
  until?: string;
};

function time(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    throw controlErrors.badRequest(`${name} must be an ISO 8601 time such as 2030-01-01T00:00:00Z`);
  }
  return ms;
}

/** The audit log as the API shows it: times as ISO strings, snake_case fields. */
export function auditView(r: AuditRecord) {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    method: r.method,
    path: r.path,
    kind: r.kind,
    name: r.name,
    before: r.before,
    after: r.after,
    outcome: r.outcome,
    status: r.status,
    error_code: r.errorCode,
    source: r.source,
  };
}

/**
 * `GET /audit-log`: newest first, filtered by `kind`, `actor`, `since` (inclusive) and `until`
 * (exclusive), paginated in the store so the log may grow without bound.
 */
export function registerAuditLog(api: FastifyInstance, store: Store): void {
  api.get('/audit-log', async (req: FastifyRequest<{ Querystring: AuditQuery }>) => {
    const q = req.query;
    const limit = pageLimit(q);
    const before = q.page_token ? decodePageToken('audit-log', q.page_token).key : undefined;
    const filter: AuditFilter = {
      limit: limit + 1,
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.actor ? { actor: q.actor } : {}),
      ...(before === undefined ? {} : { before }),
    };
    const since = time('since', q.since);
    const until = time('until', q.until);
    const records = await store.audit.list({
      ...filter,
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
    });
    const page = records.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(auditView),
      ...(records.length > limit && last
        ? { next_page_token: encodePageToken('audit-log', last.id) }
        : {}),
    };
  });
}
