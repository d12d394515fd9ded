import { chmod, mkdir, open, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { systemClock } from '../core/index.js';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import { StoreErrors } from './errors.js';
import { migrateToLatest } from './migrations.js';
import { LocalChangeFeed } from './change-feed.js';
import { createSqlStore } from './sql-store.js';
import type { Store } from './store.js';

/** The database file's name inside the data directory. */
export const EMBEDDED_DB_FILE = 'postern.db';

/** Options for openEmbeddedStore. */
export interface EmbeddedStoreOptions {
  /** Directory that holds `postern.db`; created (mode 0700) when missing. */
  readonly dataDir: string;
  /** Source of timestamps; defaults to the system clock. */
  readonly clock?: Clock;
  /**
   * False: open only a store that exists (POSTERN_ERR_STORE_MISSING otherwise), creating
   * nothing; for tools such as backup, where a mistyped path must not look like an empty store.
   * Default true.
   */
  readonly create?: boolean;
}

/**
 * Opens (creating if needed) the embedded SQLite store `<dataDir>/postern.db` in WAL mode, file
 * mode 0600, and brings its schema up to date.
 */
export async function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<Store> {
  const file = join(options.dataDir, EMBEDDED_DB_FILE);
  if (options.create === false) await requireStoreFile(file);
  try {
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    // Create the file ourselves so it is never readable by others, not even for a moment;
    // SQLite gives its -wal and -shm files the same mode as the database file.
    await (await open(file, 'a', 0o600)).close();
    await chmod(file, 0o600);
  } catch (err) {
    throw StoreErrors.openFailed(file, err);
  }
  return openSqlite(file, options.clock ?? systemClock);
}

/** POSTERN_ERR_STORE_MISSING unless `file` is a non-empty file (an edge's database). */
async function requireStoreFile(file: string): Promise<void> {
  const found = await stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw StoreErrors.openFailed(file, err);
  });
  if (found?.isFile() === true && found.size > 0) return;
  throw StoreErrors.storeMissing(
    resolve(file),
    `Check --data-dir (env POSTERN_DATA_DIR): it must be the data directory of an edge, the ` +
      `one that holds ${EMBEDDED_DB_FILE}; or pass --store for a PostgreSQL store.`,
  );
}

/** Opens a private in-memory SQLite store, for tests and throwaway runs. */
export function openMemoryStore(options: { readonly clock?: Clock } = {}): Promise<Store> {
  return openSqlite(':memory:', options.clock ?? systemClock);
}

let memoryStores = 0;

async function openSqlite(location: string, clock: Clock): Promise<Store> {
  const sqlite = openSqliteFile(location);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    await migrateToLatest(db as Kysely<unknown>);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  // Each in-memory database is private, so it gets a bus of its own.
  const key = location === ':memory:' ? `memory:${++memoryStores}` : location;
  return createSqlStore(db, { clock, changes: new LocalChangeFeed(key) });
}

function openSqliteFile(location: string): SQLite.Database {
  let sqlite: SQLite.Database | undefined;
  try {
    sqlite = new SQLite(location);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    // Another process (a backup, an admin tool) may hold the lock briefly.
    sqlite.pragma('busy_timeout = 5000');
    return sqlite;
  } catch (err) {
    sqlite?.close();
    throw StoreErrors.openFailed(location, err);
  }
}
