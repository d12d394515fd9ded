import type { Kysely, Selectable } from 'kysely';
import type { Database } from './database.js';
import { num } from './row-mapping.js';
import type {
  JsonValue,
  SessionRepository,
  SessionSweep,
  StoredBrowserSession,
  StoredPendingLogin,
} from './store.js';

type SessionRow = Selectable<Database['browser_sessions']>;

function toSession(row: SessionRow): StoredBrowserSession {
  return {
    key: row.key,
    virtualServer: row.virtual_server,
    identity: JSON.parse(row.identity) as JsonValue,
    authenticatedAt: num(row.authenticated_at),
    lastSeenAt: num(row.last_seen_at),
  };
}

/** Browser sessions and pending logins in SQL tables shared by every backend. */
export class SqlSessionRepository implements SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async createSession(session: StoredBrowserSession): Promise<void> {
    const row = {
      key: session.key,
      virtual_server: session.virtualServer,
      identity: JSON.stringify(session.identity),
      authenticated_at: session.authenticatedAt,
      last_seen_at: session.lastSeenAt,
    };
    await this.db
      .insertInto('browser_sessions')
      .values(row)
      .onConflict((oc) => oc.column('key').doUpdateSet(row))
      .execute();
  }

  async getSession(key: string): Promise<StoredBrowserSession | undefined> {
    const row = await this.db
      .selectFrom('browser_sessions')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirst();
    return row && toSession(row);
  }

  async touchSession(key: string, at: number): Promise<void> {
    // The condition keeps a late, older touch from another edge from moving the time back.
    await this.db
      .updateTable('browser_sessions')
      .set({ last_seen_at: at })
      .where('key', '=', key)
      .where('last_seen_at', '<', at)
      .execute();
  }

  async deleteSession(key: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('browser_sessions')
      .where('key', '=', key)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async putPendingLogin(login: StoredPendingLogin): Promise<void> {
    const row = { key: login.key, login: JSON.stringify(login.login), expires_at: login.expiresAt };
    await this.db
      .insertInto('pending_logins')
      .values(row)
      .onConflict((oc) => oc.column('key').doUpdateSet(row))
      .execute();
  }

  async takePendingLogin(key: string): Promise<StoredPendingLogin | undefined> {
    // DELETE … RETURNING is one statement: of two edges taking the same state, one gets it.
    const row = await this.db
      .deleteFrom('pending_logins')
      .where('key', '=', key)
      .returningAll()
      .executeTakeFirst();
    return (
      row && {
        key: row.key,
        login: JSON.parse(row.login) as JsonValue,
        expiresAt: num(row.expires_at),
      }
    );
  }

  async sweep(sweep: SessionSweep): Promise<{ sessions: number; pendingLogins: number }> {
    let sessions = await this.#deleteSessions(
      this.db
        .deleteFrom('browser_sessions')
        .where('authenticated_at', '<', sweep.authenticatedBefore),
    );
    for (const server of sweep.servers ?? []) {
      sessions += await this.#deleteSessions(
        this.db
          .deleteFrom('browser_sessions')
          .where('virtual_server', '=', server.virtualServer)
          .where((eb) =>
            server.lastSeenBefore === undefined
              ? eb('authenticated_at', '<', server.authenticatedBefore)
              : eb.or([
                  eb('authenticated_at', '<', server.authenticatedBefore),
                  eb('last_seen_at', '<', server.lastSeenBefore),
                ]),
          ),
      );
    }
    const pending = await this.db
      .deleteFrom('pending_logins')
      .where('expires_at', '<=', sweep.now)
      .executeTakeFirst();
    return { sessions, pendingLogins: Number(pending.numDeletedRows) };
  }

  async #deleteSessions(query: {
    executeTakeFirst(): Promise<{ numDeletedRows: bigint }>;
  }): Promise<number> {
    return Number((await query.executeTakeFirst()).numDeletedRows);
  }
}
