import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { systemClock } from '../core/index.js';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import { StoreErrors } from './errors.js';
import { migrateToLatest } from './migrations.js';
import { PostgresChangeFeed } from './change-feed.js';
import { createSqlStore } from './sql-store.js';
import type { Store } from './store.js';

/** Options for openPostgresStore. */
export interface PostgresStoreOptions {
  /** A `postgres://` or `postgresql://` URL (libpq syntax, as understood by node-postgres). */
  readonly connectionString: string;
  /** Source of timestamps; defaults to the system clock. */
  readonly clock?: Clock;
  /** Largest number of pooled connections; defaults to 10. */
  readonly maxConnections?: number;
  /** How long to wait for a connection before failing, in ms; defaults to 10 000. */
  readonly connectTimeoutMs?: number;
  /**
   * False: open only a database that already holds a Postern store (POSTERN_ERR_STORE_MISSING
   * otherwise), creating no tables. Default true.
   */
  readonly create?: boolean;
}

/** True when `location` names a PostgreSQL server rather than a directory. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** The URL with its password replaced, safe for logs and error messages. */
export function redactConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://<unparseable URL>';
  }
}

/**
 * Opens a PostgreSQL store: a connection pool, one probe query so a wrong URL fails here with
 * POSTERN_ERR_STORE_CONNECT, then the shared migrations (Kysely's migrator takes an advisory
 * lock, so edges starting together migrate once).
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const where = redactConnectionString(options.connectionString);
  if (!isPostgresUrl(options.connectionString)) throw StoreErrors.badStoreUrl(where);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  });
  // An idle pooled connection that the server drops must not crash the process.
  pool.on('error', () => undefined);
  let present: boolean;
  try {
    const client = await pool.connect();
    try {
      // Kysely's migration table exists from the first migration on.
      const found = await client.query<{ present: boolean }>(
        `select to_regclass('kysely_migration') is not null as present`,
      );
      present = found.rows[0]?.present === true;
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw StoreErrors.connectFailed(where, err);
  }
  if (!present && options.create === false) {
    await pool.end().catch(() => undefined);
    throw StoreErrors.storeMissing(
      `${where} (the database has no Postern tables)`,
      `Check the database name in --store (env POSTERN_STORE): it must be the database your ` +
        `edges use.`,
    );
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db as Kysely<unknown>);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const changes = new PostgresChangeFeed(pool, { connectionString: options.connectionString });
  return createSqlStore(db, { clock: options.clock ?? systemClock, changes });
}
