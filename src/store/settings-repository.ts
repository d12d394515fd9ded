import type { Kysely } from 'kysely';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import type { JsonValue, SettingsRepository } from './store.js';

/** Named JSON settings in SQL tables shared by every backend. */
export class SqlSettingsRepository implements SettingsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async get(name: string): Promise<JsonValue | undefined> {
    const row = await this.db
      .selectFrom('settings')
      .select('value')
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.value) as JsonValue);
  }

  async set(name: string, value: JsonValue): Promise<void> {
    const text = JSON.stringify(value);
    const now = this.clock.now();
    // INSERT … ON CONFLICT DO UPDATE is spelled the same way by SQLite and PostgreSQL.
    await this.db
      .insertInto('settings')
      .values({ name, value: text, updated_at: now })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: text, updated_at: now }))
      .execute();
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('settings').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
