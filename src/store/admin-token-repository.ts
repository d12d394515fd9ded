import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import { StoreErrors } from './errors.js';
import { compact, num, optNum } from './row-mapping.js';
import { isUniqueViolation } from './sql-errors.js';
import type { AdminRole, AdminTokenRecord, AdminTokenRepository, NewAdminToken } from './store.js';

type TokenRow = Selectable<Database['admin_tokens']>;
const LIST_TOKENS = 'postern tokens list';

/** Maps a row of `admin_tokens` to its record. */
export function toAdminToken(row: TokenRow): AdminTokenRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role as AdminRole,
    secretHash: row.secret_hash,
    createdAt: num(row.created_at),
    revoked: row.revoked === 1,
    ...compact({
      lastUsedAt: optNum(row.last_used_at),
      expiresAt: optNum(row.expires_at),
      revokedAt: optNum(row.revoked_at),
    }),
  };
}

/** Admin tokens in SQL tables shared by every backend. */
export class SqlAdminTokenRepository implements AdminTokenRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(token: NewAdminToken): Promise<AdminTokenRecord> {
    try {
      const row = await this.db
        .insertInto('admin_tokens')
        .values({
          id: token.id,
          name: token.name,
          role: token.role,
          secret_hash: token.secretHash,
          created_at: this.clock.now(),
          expires_at: token.expiresAt ?? null,
          revoked: 0,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toAdminToken(row);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw StoreErrors.conflict(
        `An admin token named "${token.name}" already exists. Choose another name, or revoke ` +
          `the old one with \`postern tokens revoke <id>\`.`,
        err,
      );
    }
  }

  async get(id: string): Promise<AdminTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('admin_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toAdminToken(row);
  }

  async list(): Promise<AdminTokenRecord[]> {
    const rows = await this.db.selectFrom('admin_tokens').selectAll().orderBy('name').execute();
    return rows.map(toAdminToken);
  }

  async touch(id: string, at: number): Promise<void> {
    await this.db
      .updateTable('admin_tokens')
      .set({ last_used_at: at })
      .where('id', '=', id)
      .execute();
  }

  async revoke(id: string): Promise<AdminTokenRecord> {
    const row = await this.db
      .updateTable('admin_tokens')
      .set({ revoked: 1, revoked_at: sql<number>`coalesce(revoked_at, ${this.clock.now()})` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw StoreErrors.notFound('Admin token', id, LIST_TOKENS);
    return toAdminToken(row);
  }
}
