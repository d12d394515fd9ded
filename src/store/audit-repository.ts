import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import { compact, num } from './row-mapping.js';
import type {
  AuditFilter,
  AuditOutcome,
  AuditRecord,
  AuditRepository,
  JsonValue,
  NewAuditRecord,
} from './store.js';

type AuditRow = Selectable<Database['audit_log']>;

/** Most records one list call returns, whatever the caller asks for. */
const MAX_LIMIT = 1000;

const parse = (text: string | null): JsonValue | undefined =>
  text === null ? undefined : (JSON.parse(text) as JsonValue);

/** Maps a row of `audit_log` to its record. */
export function toAuditRecord(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: num(row.at),
    actor: row.actor,
    method: row.method,
    path: row.path,
    outcome: row.outcome as AuditOutcome,
    status: row.status,
    ...compact({
      kind: row.kind,
      name: row.name,
      before: parse(row.before),
      after: parse(row.after),
      errorCode: row.error_code,
      source: row.source,
    }),
  };
}

/** The row of an audit record. */
export function auditRow(record: AuditRecord): Insertable<Database['audit_log']> {
  return {
    id: record.id,
    at: record.at,
    actor: record.actor,
    method: record.method,
    path: record.path,
    kind: record.kind ?? null,
    name: record.name ?? null,
    before: record.before === undefined ? null : JSON.stringify(record.before),
    after: record.after === undefined ? null : JSON.stringify(record.after),
    outcome: record.outcome,
    status: record.status,
    error_code: record.errorCode ?? null,
    source: record.source ?? null,
  };
}

let sequence = 0;

/**
 * An id that sorts by time: the millisecond, a per-process sequence (records written in the
 * same millisecond keep their order) and random digits (edges sharing a store never collide).
 */
function auditId(at: number): string {
  sequence = (sequence + 1) % 1_000_000;
  const random = Math.floor(Math.random() * 0xffffffff)
    .toString(16)
    .padStart(8, '0');
  return `${String(at).padStart(15, '0')}-${String(sequence).padStart(6, '0')}-${random}`;
}

/** The audit log in SQL tables shared by every backend. */
export class SqlAuditRepository implements AuditRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async append(input: NewAuditRecord): Promise<AuditRecord> {
    const at = input.at ?? this.clock.now();
    const record: AuditRecord = { ...input, at, id: auditId(at) };
    await this.db.insertInto('audit_log').values(auditRow(record)).execute();
    return record;
  }

  async list(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    let query = this.db.selectFrom('audit_log').selectAll();
    if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
    if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
    if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
    if (filter.until !== undefined) query = query.where('at', '<', filter.until);
    if (filter.before !== undefined) query = query.where('id', '<', filter.before);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), MAX_LIMIT);
    const rows = await query.orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toAuditRecord);
  }
}
