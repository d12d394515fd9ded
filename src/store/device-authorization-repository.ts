import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from './database.js';
import { compact, num, optNum } from './row-mapping.js';
import type {
  DeviceAuthorizationRecord,
  DeviceAuthorizationRepository,
  DeviceAuthorizationStatus,
  JsonValue,
  NewDeviceAuthorization,
} from './store.js';

type Row = Selectable<Database['device_authorizations']>;

function toRecord(row: Row): DeviceAuthorizationRecord {
  return {
    deviceKey: row.device_key,
    userKey: row.user_key,
    status: row.status as DeviceAuthorizationStatus,
    clientIp: row.client_ip,
    createdAt: num(row.created_at),
    expiresAt: num(row.expires_at),
    intervalMs: num(row.interval_ms),
    ...compact({
      lastPollAt: optNum(row.last_poll_at),
      identity: row.identity === null ? undefined : (JSON.parse(row.identity) as JsonValue),
      decidedAt: optNum(row.decided_at),
    }),
  };
}

/** Device logins in one SQL table shared by every backend. */
export class SqlDeviceAuthorizationRepository implements DeviceAuthorizationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(record: NewDeviceAuthorization): Promise<boolean> {
    // ON CONFLICT DO NOTHING covers both unique columns: a clash means "draw new codes".
    const result = await this.db
      .insertInto('device_authorizations')
      .values({
        device_key: record.deviceKey,
        user_key: record.userKey,
        status: 'pending',
        client_ip: record.clientIp,
        created_at: record.createdAt,
        expires_at: record.expiresAt,
        interval_ms: record.intervalMs,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async get(deviceKey: string): Promise<DeviceAuthorizationRecord | undefined> {
    const row = await this.db
      .selectFrom('device_authorizations')
      .selectAll()
      .where('device_key', '=', deviceKey)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async findByUserKey(userKey: string): Promise<DeviceAuthorizationRecord | undefined> {
    const row = await this.db
      .selectFrom('device_authorizations')
      .selectAll()
      .where('user_key', '=', userKey)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async decide(
    userKey: string,
    decision: { status: 'approved' | 'denied'; at: number; identity?: JsonValue },
  ): Promise<boolean> {
    // One conditional UPDATE: of two edges deciding the same code, only the first counts.
    const result = await this.db
      .updateTable('device_authorizations')
      .set({
        status: decision.status,
        decided_at: decision.at,
        identity: decision.identity === undefined ? null : JSON.stringify(decision.identity),
      })
      .where('user_key', '=', userKey)
      .where('status', '=', 'pending')
      .where('expires_at', '>', decision.at)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async recordPoll(
    deviceKey: string,
    poll: { at: number; leewayMs: number; slowDownMs: number },
  ): Promise<boolean> {
    const inTime = await this.db
      .updateTable('device_authorizations')
      .set({ last_poll_at: poll.at })
      .where('device_key', '=', deviceKey)
      .where((eb) =>
        eb.or([
          eb('last_poll_at', 'is', null),
          eb(sql<number>`last_poll_at + interval_ms`, '<=', poll.at + poll.leewayMs),
        ]),
      )
      .executeTakeFirst();
    if (inTime.numUpdatedRows > 0n) return true;
    await this.db
      .updateTable('device_authorizations')
      .set({
        last_poll_at: poll.at,
        interval_ms: sql<number>`interval_ms + ${poll.slowDownMs}`,
      })
      .where('device_key', '=', deviceKey)
      .execute();
    return false;
  }

  async take(
    deviceKey: string,
    status: 'approved' | 'denied',
  ): Promise<DeviceAuthorizationRecord | undefined> {
    // DELETE … RETURNING is one statement: of two polls redeeming one approval, one gets it.
    const row = await this.db
      .deleteFrom('device_authorizations')
      .where('device_key', '=', deviceKey)
      .where('status', '=', status)
      .returningAll()
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async sweep(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('device_authorizations')
      .where('expires_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
