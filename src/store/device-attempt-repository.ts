import { sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import { num } from './row-mapping.js';
import type { DeviceAttemptCount, DeviceAttemptRepository } from './store.js';

/** Device login attempt counters in one SQL table shared by every backend. */
export class SqlDeviceAttemptRepository implements DeviceAttemptRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async increment(
    key: string,
    attempt: { at: number; windowMs: number },
  ): Promise<DeviceAttemptCount> {
    const { at, windowMs } = attempt;
    // One INSERT … ON CONFLICT DO UPDATE … RETURNING: PostgreSQL locks the row for the update
    // and SQLite has one writer, so two edges counting at once both count. The SET expressions
    // read the row as it was, so `lapsed` means the same in all three.
    const lapsed = sql<boolean>`device_attempts.expires_at <= ${at}`;
    const row = await this.db
      .insertInto('device_attempts')
      .values({ key, attempts: 1, window_start: at, expires_at: at + windowMs })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          attempts: sql<number>`CASE WHEN ${lapsed} THEN 1 ELSE device_attempts.attempts + 1 END`,
          window_start: sql<number>`CASE WHEN ${lapsed} THEN ${at} ELSE device_attempts.window_start END`,
          expires_at: sql<number>`CASE WHEN ${lapsed} THEN ${at + windowMs} ELSE device_attempts.expires_at END`,
        }),
      )
      .returning(['attempts', 'window_start', 'expires_at'])
      .executeTakeFirstOrThrow();
    return toCount(row);
  }

  async refund(key: string, at: number): Promise<void> {
    await this.db
      .updateTable('device_attempts')
      .set({ attempts: sql<number>`attempts - 1` })
      .where('key', '=', key)
      .where('attempts', '>', 0)
      .where('expires_at', '>', at)
      .execute();
  }

  async get(key: string, at: number): Promise<DeviceAttemptCount | undefined> {
    const row = await this.db
      .selectFrom('device_attempts')
      .select(['attempts', 'window_start', 'expires_at'])
      .where('key', '=', key)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return row && toCount(row);
  }

  async sweep(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('device_attempts')
      .where('expires_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toCount(row: {
  attempts: number | string;
  window_start: number | string;
  expires_at: number | string;
}): DeviceAttemptCount {
  return {
    attempts: num(row.attempts),
    windowStart: num(row.window_start),
    expiresAt: num(row.expires_at),
  };
}
