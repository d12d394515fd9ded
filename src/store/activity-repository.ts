import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database } from './database.js';
import { compact, num, optNum } from './row-mapping.js';
import type { ActivityFilter, ActivityPrune, ActivityRecord, ActivityRepository } from './store.js';

type ActivityRow = Selectable<Database['user_activity']>;

/** Most records one list call returns, whatever the caller asks for. */
const MAX_LIMIT = 1000;

/**
 * Rows per INSERT statement: 200 rows of 21 columns stay well under the bind-parameter limits
 * of SQLite (32,766) and PostgreSQL (65,535).
 */
const INSERT_CHUNK = 200;

/** Maps a row of `user_activity` to its record. */
function toActivityRecord(row: ActivityRow): ActivityRecord {
  return {
    id: row.id,
    at: num(row.at),
    serverId: row.server_id,
    seq: num(row.seq),
    kind: row.kind,
    sessionId: row.session_id,
    groups: JSON.parse(row.user_groups) as string[],
    clientType: row.client_type,
    source: row.source,
    destination: row.destination,
    action: row.action,
    reason: row.reason,
    ...compact({
      user: row.user_name,
      application: row.application,
      rule: row.rule,
      status: row.status,
      connector: row.connector,
      bytesFromClient: optNum(row.bytes_from_client),
      bytesToClient: optNum(row.bytes_to_client),
      durationMs: optNum(row.duration_ms),
      closeReason: row.close_reason,
    }),
  };
}

/** The row of an activity record. */
function activityRow(r: ActivityRecord): Insertable<Database['user_activity']> {
  return {
    id: r.id,
    at: r.at,
    server_id: r.serverId,
    seq: r.seq,
    kind: r.kind,
    session_id: r.sessionId,
    user_name: r.user ?? null,
    user_groups: JSON.stringify(r.groups),
    client_type: r.clientType,
    source: r.source,
    application: r.application ?? null,
    destination: r.destination,
    rule: r.rule ?? null,
    action: r.action,
    reason: r.reason,
    status: r.status ?? null,
    connector: r.connector ?? null,
    bytes_from_client: r.bytesFromClient ?? null,
    bytes_to_client: r.bytesToClient ?? null,
    duration_ms: r.durationMs ?? null,
    close_reason: r.closeReason ?? null,
  };
}

/** The user activity log in a SQL table shared by every backend. */
export class SqlActivityRepository implements ActivityRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async append(records: readonly ActivityRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += INSERT_CHUNK) {
      // A batch retried after a lost reply must not store its records twice.
      await this.db
        .insertInto('user_activity')
        .values(records.slice(i, i + INSERT_CHUNK).map(activityRow))
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
  }

  async list(filter: ActivityFilter = {}): Promise<ActivityRecord[]> {
    let query = this.db.selectFrom('user_activity').selectAll();
    if (filter.before !== undefined) query = query.where('id', '<', filter.before);
    const limit = Math.min(Math.max(Math.floor(filter.limit ?? 100), 1), MAX_LIMIT);
    const rows = await query.orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toActivityRecord);
  }

  async prune(prune: ActivityPrune): Promise<number> {
    const aged = await this.db
      .deleteFrom('user_activity')
      .where('at', '<', prune.olderThan)
      .executeTakeFirst();
    // The newest `keep` records stay: everything below the keep-th newest id goes.
    const boundary = await this.db
      .selectFrom('user_activity')
      .select('id')
      .orderBy('id', 'desc')
      .limit(1)
      .offset(Math.max(1, Math.floor(prune.keep)) - 1)
      .executeTakeFirst();
    const excess =
      boundary === undefined
        ? undefined
        : await this.db
            .deleteFrom('user_activity')
            .where('id', '<', boundary.id)
            .executeTakeFirst();
    return Number(aged.numDeletedRows) + Number(excess?.numDeletedRows ?? 0n);
  }
}
