import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Clock } from '../core/index.js';
import { SqlAdminTokenRepository } from './admin-token-repository.js';
import { auditRow, toAuditRecord } from './audit-repository.js';
import { SqlConnectorRepository } from './connector-repository.js';
import type { Database } from './database.js';
import { StoreErrors } from './errors.js';
import { SqlGroupRepository } from './group-repository.js';
import { SqlObjectRepository } from './object-repository.js';
import { SqlProvisioningKeyRepository } from './provisioning-key-repository.js';
import { num } from './row-mapping.js';
import { isForeignKeyViolation, isUniqueViolation } from './sql-errors.js';
import type { JsonValue, SnapshotRepository, StoreSnapshot } from './store.js';

/** Rows per INSERT: far below SQLite's and PostgreSQL's limits on bound parameters. */
const BATCH = 200;
const flag = (value: boolean): number => (value ? 1 : 0);

/** Tables in dependency order: parents first for inserts, children first for deletes. */
const TABLES = [
  'connector_groups',
  'provisioning_keys',
  'connectors',
  'settings',
  'objects',
  'admin_tokens',
  'audit_log',
] as const;

/**
 * Browser sessions and pending logins: ephemeral, so never read into a snapshot and not counted
 * when deciding whether a store is empty.
 */
const EPHEMERAL_TABLES = ['browser_sessions', 'pending_logins'] as const;

function rows(snapshot: StoreSnapshot) {
  return {
    connector_groups: snapshot.groups.map((g): Insertable<Database['connector_groups']> => ({
      name: g.name,
      description: g.description ?? null,
      auto_delete_after_days: g.autoDeleteAfterDays ?? null,
      owner: g.owner,
      created_at: g.createdAt,
    })),
    provisioning_keys: snapshot.provisioningKeys.map(
      (k): Insertable<Database['provisioning_keys']> => ({
        id: k.id,
        group_name: k.group,
        secret_hash: k.secretHash,
        max_usage: k.maxUsage,
        usage_count: k.usageCount,
        expires_at: k.expiresAt ?? null,
        source_cidrs: k.sourceCidrs === undefined ? null : JSON.stringify(k.sourceCidrs),
        enabled: flag(k.enabled),
        revoked: flag(k.revoked),
        revoked_at: k.revokedAt ?? null,
        created_at: k.createdAt,
      }),
    ),
    connectors: snapshot.connectors.map((c): Insertable<Database['connectors']> => ({
      id: c.id,
      group_name: c.group,
      key_id: c.keyId,
      ephemeral: flag(c.ephemeral),
      cert_serial: c.certSerial,
      cert_not_after: c.certNotAfter,
      created_at: c.createdAt,
      last_seen_at: c.lastSeenAt ?? null,
      version: c.version ?? null,
      private_ip: c.privateIp ?? null,
      public_ip: c.publicIp ?? null,
      revoked: flag(c.revoked),
      revoked_at: c.revokedAt ?? null,
      draining_at: c.drainingSince ?? null,
    })),
    settings: snapshot.settings.map((s): Insertable<Database['settings']> => ({
      name: s.name,
      value: JSON.stringify(s.value),
      updated_at: s.updatedAt,
    })),
    objects: snapshot.objects.map((o): Insertable<Database['objects']> => ({
      kind: o.kind,
      name: o.name,
      spec: JSON.stringify(o.spec),
      owner: o.owner,
      created_at: o.createdAt,
      updated_at: o.updatedAt,
    })),
    admin_tokens: snapshot.adminTokens.map((t): Insertable<Database['admin_tokens']> => ({
      id: t.id,
      name: t.name,
      role: t.role,
      secret_hash: t.secretHash,
      created_at: t.createdAt,
      last_used_at: t.lastUsedAt ?? null,
      expires_at: t.expiresAt ?? null,
      revoked: flag(t.revoked),
      revoked_at: t.revokedAt ?? null,
    })),
    audit_log: snapshot.auditLog.map(auditRow),
  };
}

async function countRows(trx: Transaction<Database>): Promise<string[]> {
  const found: string[] = [];
  for (const table of TABLES) {
    const { count } = await trx
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .executeTakeFirstOrThrow();
    if (num(count) > 0) found.push(`${num(count)} ${table.replaceAll('_', ' ')}`);
  }
  return found;
}

async function insertAll(trx: Transaction<Database>, snapshot: StoreSnapshot): Promise<void> {
  const all = rows(snapshot);
  for (const table of TABLES) {
    const list: readonly Insertable<Database[typeof table]>[] = all[table];
    for (let i = 0; i < list.length; i += BATCH) {
      await trx
        .insertInto(table)
        .values(list.slice(i, i + BATCH))
        .execute();
    }
  }
}

/** Whole-store snapshots over the SQL tables shared by every backend. */
export class SqlSnapshotRepository implements SnapshotRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  read(): Promise<StoreSnapshot> {
    // SQLite ignores the level: its one connection already sees a single snapshot.
    return this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        // The repositories' own mappers read the rows, so a snapshot looks like their lists.
        const groups = await new SqlGroupRepository(trx, this.clock).list();
        const provisioningKeys = await new SqlProvisioningKeyRepository(trx, this.clock).list();
        const connectors = await new SqlConnectorRepository(trx, this.clock).list();
        const settingRows = await trx.selectFrom('settings').selectAll().orderBy('name').execute();
        const objects = await new SqlObjectRepository(trx, this.clock).list();
        const adminTokens = await new SqlAdminTokenRepository(trx, this.clock).list();
        const auditRows = await trx.selectFrom('audit_log').selectAll().orderBy('id').execute();
        const settings = settingRows.map((s) => ({
          name: s.name,
          value: JSON.parse(s.value) as JsonValue,
          updatedAt: num(s.updated_at),
        }));
        const auditLog = auditRows.map(toAuditRecord);
        return { groups, provisioningKeys, connectors, settings, objects, adminTokens, auditLog };
      });
  }

  async write(
    snapshot: StoreSnapshot,
    options: { readonly replace?: boolean } = {},
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (options.replace === true) {
        for (const table of [...TABLES].reverse()) await trx.deleteFrom(table).execute();
        // Sessions are never in a snapshot; a restored store starts with everyone logged out.
        for (const table of EPHEMERAL_TABLES) await trx.deleteFrom(table).execute();
      } else {
        const found = await countRows(trx);
        if (found.length > 0) throw StoreErrors.restoreNotEmpty(found.join(', '));
      }
      try {
        await insertAll(trx, snapshot);
      } catch (err) {
        if (isForeignKeyViolation(err)) {
          throw StoreErrors.backupInvalid(
            'a provisioning key or connector refers to a group or key the backup does not hold',
          );
        }
        if (isUniqueViolation(err)) throw StoreErrors.backupInvalid('it lists the same row twice');
        throw err;
      }
    });
  }
}
