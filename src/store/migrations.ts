import { Migrator, sql } from 'kysely';
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { StoreErrors } from './errors.js';

/**
 * Every schema change, in order, written once for all backends: only types and constraints
 * that SQLite and PostgreSQL share (text, integer, bigint, primary/foreign keys, checks).
 * Names sort in application order; never edit a migration that has shipped, add a new one.
 */
const migrations: Record<string, Migration> = {
  '0001-initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('connector_groups')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text')
        .addColumn('auto_delete_after_days', 'integer')
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('provisioning_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('group_name', 'text', (c) =>
          c.notNull().references('connector_groups.name').onDelete('cascade'),
        )
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('max_usage', 'integer', (c) => c.notNull())
        .addColumn('usage_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('expires_at', 'bigint')
        .addColumn('source_cidrs', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('revoked', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('revoked_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addCheckConstraint('provisioning_keys_usage_count_check', sql`usage_count >= 0`)
        .addCheckConstraint('provisioning_keys_max_usage_check', sql`max_usage >= 1`)
        .execute();
      await db.schema
        .createIndex('provisioning_keys_group_idx')
        .on('provisioning_keys')
        .column('group_name')
        .execute();
      await db.schema
        .createTable('connectors')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('group_name', 'text', (c) => c.notNull().references('connector_groups.name'))
        .addColumn('key_id', 'text', (c) => c.notNull().references('provisioning_keys.id'))
        .addColumn('ephemeral', 'integer', (c) => c.notNull())
        .addColumn('cert_serial', 'text', (c) => c.notNull())
        .addColumn('cert_not_after', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint')
        .addColumn('version', 'text')
        .addColumn('private_ip', 'text')
        .addColumn('public_ip', 'text')
        .addColumn('revoked', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('connectors_group_idx')
        .on('connectors')
        .column('group_name')
        .execute();
      await db.schema
        .createTable('settings')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('objects')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('objects_pk', ['kind', 'name'])
        .execute();
    },
  },
  '0004-admin-tokens': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('admin_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('revoked_at', 'bigint')
        .addCheckConstraint('admin_tokens_role_check', sql`role in ('admin', 'operator', 'viewer')`)
        .execute();
    },
  },
  '0005-audit-log': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('kind', 'text')
        .addColumn('name', 'text')
        .addColumn('before', 'text')
        .addColumn('after', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('error_code', 'text')
        .execute();
      await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();
    },
  },
  '0003-edge-leases': {
    // One row per live edge of the HA set; `instance` tells a restart of the same id from a clash.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('edge_leases')
        .addColumn('server_id', 'text', (c) => c.primaryKey())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('instance', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('renewed_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0006-browser-sessions': {
    // Shared by every edge of an HA set, so a login on one edge works on all and a logout on
    // one ends the session everywhere. Keys are SHA-256 hashes: a dump holds no usable cookie.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('browser_sessions')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('virtual_server', 'text', (c) => c.notNull())
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('authenticated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('browser_sessions_authenticated_idx')
        .on('browser_sessions')
        .column('authenticated_at')
        .execute();
      await db.schema
        .createTable('pending_logins')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('login', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0007-connector-drain': {
    // An admin's drain is kept in the store, so every edge (and a reconnect) honours it.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('connectors').addColumn('draining_at', 'bigint').execute();
    },
  },
  '0008-connector-tunnels': {
    // Which edge holds which connector's tunnel, so any edge of an HA set shows them all.
    // Ephemeral runtime state: never in a backup; rows of an edge without a live lease are ignored.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('connector_tunnels')
        .addColumn('connector_id', 'text', (c) => c.notNull())
        .addColumn('server_id', 'text', (c) => c.notNull())
        .addColumn('remote_address', 'text', (c) => c.notNull())
        .addColumn('since', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('connector_tunnels_pk', ['connector_id', 'server_id'])
        .execute();
      await db.schema
        .createIndex('connector_tunnels_server_idx')
        .on('connector_tunnels')
        .column('server_id')
        .execute();
    },
  },
  '0009-user-activity': {
    // Every edge's access decisions and session ends, so any edge's API lists them all and they
    // survive restarts. Bounded by a periodic prune (count and age), not part of backups.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('user_activity')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('server_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('user_name', 'text')
        .addColumn('user_groups', 'text', (c) => c.notNull())
        .addColumn('client_type', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('application', 'text')
        .addColumn('destination', 'text', (c) => c.notNull())
        .addColumn('rule', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('status', 'integer')
        .addColumn('connector', 'text')
        .addColumn('bytes_from_client', 'bigint')
        .addColumn('bytes_to_client', 'bigint')
        .addColumn('duration_ms', 'bigint')
        .addColumn('close_reason', 'text')
        .execute();
      await db.schema
        .createIndex('user_activity_at_idx')
        .on('user_activity')
        .column('at')
        .execute();
    },
  },
  '0010-device-authorizations': {
    // `postern login --device`: the CLI may poll one edge while the user approves on another,
    // so pending device logins are shared. Keys are SHA-256 hashes of the device and user codes.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('device_authorizations')
        .addColumn('device_key', 'text', (c) => c.primaryKey())
        .addColumn('user_key', 'text', (c) => c.notNull().unique())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('client_ip', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('interval_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_poll_at', 'bigint')
        .addColumn('identity', 'text')
        .addColumn('decided_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('device_authorizations_expires_idx')
        .on('device_authorizations')
        .column('expires_at')
        .execute();
    },
  },
  '0011-device-attempts': {
    // Counters of device login attempts (wrong user codes, starts per client address) shared by
    // every edge, so an HA set of N edges allows the same number of attempts as one edge.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('device_attempts')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('attempts', 'bigint', (c) => c.notNull())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('device_attempts_expires_idx')
        .on('device_attempts')
        .column('expires_at')
        .execute();
    },
  },
  '0012-audit-source': {
    // The admin API client's address (the TCP peer), kept with the record for later forensics.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('audit_log').addColumn('source', 'text').execute();
    },
  },
  '0013-session-auth-time': {
    // When the identity provider really authenticated the user (its `auth_time`), which can be
    // long before the Postern login: the reauthentication deadline runs from it. Null: unknown.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('browser_sessions').addColumn('auth_time', 'bigint').execute();
    },
  },
  session_id_token: {
    // The ID token of the login, sent as id_token_hint with RP-initiated logout so providers
    // need not ask the user to confirm; kept only for providers with an end_session_endpoint
    // and deleted with the session. Null: none kept.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('browser_sessions').addColumn('id_token', 'text').execute();
    },
  },
};

const provider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};

/** Names of all migrations this build knows, in order. */
export const migrationNames: readonly string[] = Object.keys(migrations).sort();

/** Brings the schema up to date; throws POSTERN_ERR_STORE_MIGRATION when that fails. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error');
    throw StoreErrors.migrationFailed(
      failed === undefined
        ? error
        : new Error(`migration ${failed.migrationName} failed`, { cause: error }),
    );
  }
}
