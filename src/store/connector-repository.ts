import { sql } from 'kysely';
import type { Insertable, Kysely, Selectable, UpdateObject } from 'kysely';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import { StoreErrors } from './errors.js';
import { compact, num, optNum } from './row-mapping.js';
import { isForeignKeyViolation, isUniqueViolation } from './sql-errors.js';
import type {
  ConnectorRecord,
  ConnectorRepository,
  ConnectorStatus,
  NewConnector,
} from './store.js';

type ConnectorRow = Selectable<Database['connectors']>;
const LIST_CONNECTORS = 'postern connectors list';

function toConnector(row: ConnectorRow): ConnectorRecord {
  return {
    id: row.id,
    group: row.group_name,
    keyId: row.key_id,
    ephemeral: row.ephemeral === 1,
    certSerial: row.cert_serial,
    certNotAfter: num(row.cert_not_after),
    createdAt: num(row.created_at),
    revoked: row.revoked === 1,
    ...compact({
      lastSeenAt: optNum(row.last_seen_at),
      version: row.version,
      privateIp: row.private_ip,
      publicIp: row.public_ip,
      revokedAt: optNum(row.revoked_at),
      drainingSince: optNum(row.draining_at),
    }),
  };
}

function statusColumns(status: ConnectorStatus): UpdateObject<Database, 'connectors'> {
  return compact({
    last_seen_at: status.lastSeenAt,
    version: status.version,
    private_ip: status.privateIp,
    public_ip: status.publicIp,
    cert_serial: status.certSerial,
    cert_not_after: status.certNotAfter,
  });
}

/** Connectors in SQL tables shared by every backend. */
export class SqlConnectorRepository implements ConnectorRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  create(connector: NewConnector): Promise<ConnectorRecord> {
    const row: Insertable<Database['connectors']> = {
      id: connector.id,
      group_name: connector.group,
      key_id: connector.keyId,
      ephemeral: connector.ephemeral ? 1 : 0,
      cert_serial: connector.certSerial,
      cert_not_after: connector.certNotAfter,
      created_at: this.clock.now(),
      revoked: 0,
    };
    return this.db.transaction().execute(async (trx) => {
      // One query at a time: a transaction holds a single connection on every backend.
      const group = await trx
        .selectFrom('connector_groups')
        .select('name')
        .where('name', '=', connector.group)
        .executeTakeFirst();
      const key = await trx
        .selectFrom('provisioning_keys')
        .select('id')
        .where('id', '=', connector.keyId)
        .executeTakeFirst();
      if (group === undefined)
        throw StoreErrors.notFound('Connector group', connector.group, 'postern groups list');
      if (key === undefined)
        throw StoreErrors.notFound('Provisioning key', connector.keyId, 'postern keys list');
      try {
        return toConnector(
          await trx.insertInto('connectors').values(row).returningAll().executeTakeFirstOrThrow(),
        );
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw StoreErrors.conflict(
            `Connector ${connector.id} already exists. Use a new id.`,
            err,
          );
        }
        if (isForeignKeyViolation(err)) {
          throw StoreErrors.notFound('Connector group', connector.group, 'postern groups list');
        }
        throw err;
      }
    });
  }

  async get(id: string): Promise<ConnectorRecord | undefined> {
    const row = await this.db
      .selectFrom('connectors')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toConnector(row);
  }

  async list(
    filter: { readonly group?: string; readonly draining?: boolean } = {},
  ): Promise<ConnectorRecord[]> {
    let query = this.db.selectFrom('connectors').selectAll();
    if (filter.group !== undefined) query = query.where('group_name', '=', filter.group);
    if (filter.draining !== undefined) {
      query = query.where('draining_at', filter.draining ? 'is not' : 'is', null);
    }
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return rows.map(toConnector);
  }

  async update(id: string, status: ConnectorStatus): Promise<ConnectorRecord> {
    const changes = statusColumns(status);
    const renewsCertificate = status.certSerial !== undefined || status.certNotAfter !== undefined;
    if (Object.keys(changes).length === 0) return this.require(await this.get(id), id);
    let query = this.db.updateTable('connectors').set(changes).where('id', '=', id);
    // Checked in the same statement, so a revocation that races a renewal always wins.
    if (renewsCertificate) query = query.where('revoked', '=', 0);
    const row = await query.returningAll().executeTakeFirst();
    if (row !== undefined) return toConnector(row);
    const current = this.require(await this.get(id), id);
    throw StoreErrors.connectorRevoked(current.id);
  }

  async setDraining(id: string, draining: boolean): Promise<ConnectorRecord> {
    const row = await this.db
      .updateTable('connectors')
      .set({
        draining_at: draining ? sql<number>`coalesce(draining_at, ${this.clock.now()})` : null,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return toConnector(this.require(row, id));
  }

  async markRevoked(id: string): Promise<ConnectorRecord> {
    const row = await this.db
      .updateTable('connectors')
      .set({ revoked: 1, revoked_at: sql<number>`coalesce(revoked_at, ${this.clock.now()})` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return toConnector(this.require(row, id));
  }

  async delete(id: string): Promise<void> {
    const result = await this.db.deleteFrom('connectors').where('id', '=', id).executeTakeFirst();
    if (result.numDeletedRows === 0n) throw StoreErrors.notFound('Connector', id, LIST_CONNECTORS);
  }

  private require<T>(value: T | undefined, id: string): T {
    if (value === undefined) throw StoreErrors.notFound('Connector', id, LIST_CONNECTORS);
    return value;
  }
}
