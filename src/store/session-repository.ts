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
    ...(row.auth_time === null ? {} : { authTime: num(row.auth_time) }),
    ...(row.id_token === null ? {} : { idToken: row.id_token }),
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
      auth_time: session.authTime ?? null,
      id_token: session.idToken ?? null,
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
          .where((eb) => {
            // The reauthentication deadline runs from the provider's auth_time when known.
            const authenticated = eb.or([
              eb('authenticated_at', '<', server.authenticatedBefore),
              eb('auth_time', '<', server.authenticatedBefore),
            ]);
            return server.lastSeenBefore === undefined
              ? authenticated
              : eb.or([authenticated, eb('last_seen_at', '<', server.lastSeenBefore)]);
          }),
      );
    }
    const pending = await this.db
      .deleteFrom('pending_logins')
      .where('expires_at', '<=', sweep.now)
      .executeTakeFirst();
    return { sessions, pendingLogins: Number(pending.numDeletedRows) };
  }

  async deleteUserSessions(user: {
    readonly idp: string;
    readonly subject: string;
  }): Promise<string[]> {
    // Identities are JSON text, so the rows are matched here: a revocation is a rare admin
    // action, and reading every session's key and identity once is cheap next to that.
    const rows = await this.db.selectFrom('browser_sessions').select(['key', 'identity']).execute();
    const keys = rows.filter((row) => sameUser(row.identity, user)).map((row) => row.key);
    for (let i = 0; i < keys.length; i += 500) {
      await this.db
        .deleteFrom('browser_sessions')
        .where('key', 'in', keys.slice(i, i + 500))
        .execute();
    }
    return keys;
  }

  async #deleteSessions(query: {
    executeTakeFirst(): Promise<{ numDeletedRows: bigint }>;
  }): Promise<number> {
    return Number((await query.executeTakeFirst()).numDeletedRows);
  }
}

function sameUser(
  identity: string,
  user: { readonly idp: string; readonly subject: string },
): boolean {
  try {
    const parsed = JSON.parse(identity) as { idp?: unknown; subject?: unknown };
    return parsed.idp === user.idp && parsed.subject === user.subject;
  } catch {
    return false;
  }
}
