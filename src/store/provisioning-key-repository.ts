import { sql } from 'kysely';
import type { Insertable, Kysely, Selectable, UpdateObject } from 'kysely';
import { CoreErrors } from '../core/index.js';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import { StoreErrors } from './errors.js';
import { compact, num, optNum } from './row-mapping.js';
import { ipInCidrs } from './source-ip.js';
import { isForeignKeyViolation, isUniqueViolation } from './sql-errors.js';
import type {
  ConsumeOptions,
  NewProvisioningKey,
  ProvisioningKeyRecord,
  ProvisioningKeyRepository,
} from './store.js';

type KeyRow = Selectable<Database['provisioning_keys']>;

const DEFAULT_MAX_USAGE = 100;
const LIST_KEYS = 'postern keys list';

function toKey(row: KeyRow): ProvisioningKeyRecord {
  return {
    id: row.id,
    group: row.group_name,
    secretHash: row.secret_hash,
    maxUsage: row.max_usage,
    usageCount: row.usage_count,
    enabled: row.enabled === 1,
    revoked: row.revoked === 1,
    createdAt: num(row.created_at),
    ...compact({
      expiresAt: optNum(row.expires_at),
      sourceCidrs:
        row.source_cidrs === null ? undefined : (JSON.parse(row.source_cidrs) as string[]),
      revokedAt: optNum(row.revoked_at),
    }),
  };
}

/**
 * Throws the error that explains why `key` cannot enroll a connector now, if any. The order
 * puts permanent states before temporary ones, so the message names the real fix.
 */
function assertUsable(key: ProvisioningKeyRecord, options: ConsumeOptions): void {
  if (key.revoked) throw StoreErrors.keyRevoked(key.id, key.group);
  if (!key.enabled) throw StoreErrors.keyDisabled(key.id);
  if (key.expiresAt !== undefined && key.expiresAt <= options.now) {
    throw StoreErrors.keyExpired(key.id, key.group, key.expiresAt);
  }
  const cidrs = key.sourceCidrs;
  if (cidrs !== undefined) {
    const ip = options.sourceIp;
    if (ip === undefined || !ipInCidrs(ip, cidrs)) {
      throw StoreErrors.keySourceDenied(key.id, ip, cidrs);
    }
  }
  if (key.usageCount >= key.maxUsage)
    throw StoreErrors.keyExhausted(key.id, key.group, key.maxUsage);
}

/** Provisioning keys in SQL tables shared by every backend. */
export class SqlProvisioningKeyRepository implements ProvisioningKeyRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async create(key: NewProvisioningKey): Promise<ProvisioningKeyRecord> {
    const row: Insertable<Database['provisioning_keys']> = {
      id: key.id,
      group_name: key.group,
      secret_hash: key.secretHash,
      max_usage: key.maxUsage ?? DEFAULT_MAX_USAGE,
      usage_count: 0,
      expires_at: key.expiresAt ?? null,
      source_cidrs: key.sourceCidrs === undefined ? null : JSON.stringify(key.sourceCidrs),
      enabled: key.enabled === false ? 0 : 1,
      revoked: 0,
      revoked_at: null,
      created_at: this.clock.now(),
    };
    return this.db.transaction().execute(async (trx) => {
      const group = await trx
        .selectFrom('connector_groups')
        .select('name')
        .where('name', '=', key.group)
        .executeTakeFirst();
      if (group === undefined)
        throw StoreErrors.notFound('Connector group', key.group, 'postern groups list');
      try {
        return toKey(
          await trx
            .insertInto('provisioning_keys')
            .values(row)
            .returningAll()
            .executeTakeFirstOrThrow(),
        );
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw StoreErrors.conflict(
            `Provisioning key ${key.id} already exists. Use a new id.`,
            err,
          );
        }
        if (isForeignKeyViolation(err))
          throw StoreErrors.notFound('Connector group', key.group, 'postern groups list');
        throw err;
      }
    });
  }

  async get(id: string): Promise<ProvisioningKeyRecord | undefined> {
    const row = await this.db
      .selectFrom('provisioning_keys')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toKey(row);
  }

  async list(filter: { readonly group?: string } = {}): Promise<ProvisioningKeyRecord[]> {
    let query = this.db.selectFrom('provisioning_keys').selectAll();
    if (filter.group !== undefined) query = query.where('group_name', '=', filter.group);
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return rows.map(toKey);
  }

  revoke(id: string): Promise<ProvisioningKeyRecord> {
    // coalesce keeps the first revocation time when a key is revoked twice.
    return this.updateOne(id, {
      revoked: 1,
      revoked_at: sql<number>`coalesce(revoked_at, ${this.clock.now()})`,
    });
  }

  setEnabled(id: string, enabled: boolean): Promise<ProvisioningKeyRecord> {
    return this.updateOne(id, { enabled: enabled ? 1 : 0 });
  }

  setMaxUsage(id: string, maxUsage: number): Promise<ProvisioningKeyRecord> {
    if (!Number.isInteger(maxUsage) || maxUsage < 1) {
      return Promise.reject(
        CoreErrors.invalidArgument('maxUsage', `${maxUsage} is not a whole number of at least 1.`),
      );
    }
    return this.updateOne(id, { max_usage: maxUsage });
  }

  consume(id: string, options: ConsumeOptions): Promise<ProvisioningKeyRecord> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('provisioning_keys')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (row === undefined) throw StoreErrors.keyUnknown(id);
      const key = toKey(row);
      await options.check?.(key);
      assertUsable(key, options);
      // The guarded UPDATE is what makes this atomic on every backend: under PostgreSQL's
      // READ COMMITTED a concurrent enrollment may have counted a use since the SELECT, and
      // the WHERE clause is re-evaluated against the row it finally locks.
      const updated = await trx
        .updateTable('provisioning_keys')
        .set((eb) => ({ usage_count: eb('usage_count', '+', 1) }))
        .where('id', '=', id)
        .where('revoked', '=', 0)
        .where('enabled', '=', 1)
        .where((eb) => eb('usage_count', '<', eb.ref('max_usage')))
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', options.now)]))
        .returningAll()
        .executeTakeFirst();
      if (updated !== undefined) return toKey(updated);
      // The key changed between the two statements; report its state as it is now.
      const fresh = await trx
        .selectFrom('provisioning_keys')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (fresh === undefined) throw StoreErrors.keyUnknown(id);
      assertUsable(toKey(fresh), options);
      throw StoreErrors.keyExhausted(id, fresh.group_name, fresh.max_usage);
    });
  }

  async release(id: string): Promise<ProvisioningKeyRecord> {
    const updated = await this.db
      .updateTable('provisioning_keys')
      .set((eb) => ({ usage_count: eb('usage_count', '-', 1) }))
      .where('id', '=', id)
      .where('usage_count', '>', 0)
      .returningAll()
      .executeTakeFirst();
    if (updated !== undefined) return toKey(updated);
    const current = await this.get(id);
    if (current === undefined) throw StoreErrors.notFound('Provisioning key', id, LIST_KEYS);
    return current;
  }

  private async updateOne(
    id: string,
    changes: UpdateObject<Database, 'provisioning_keys'>,
  ): Promise<ProvisioningKeyRecord> {
    const row = await this.db
      .updateTable('provisioning_keys')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw StoreErrors.notFound('Provisioning key', id, LIST_KEYS);
    return toKey(row);
  }
}
