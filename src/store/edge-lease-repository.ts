import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import { StoreErrors } from './errors.js';
import { num } from './row-mapping.js';
import type { EdgeLease, EdgeLeaseRepository, NewEdgeLease } from './store.js';

type LeaseRow = Selectable<Database['edge_leases']>;

function toLease(row: LeaseRow): EdgeLease {
  return {
    serverId: row.server_id,
    address: row.address,
    instance: row.instance,
    startedAt: num(row.started_at),
    renewedAt: num(row.renewed_at),
    expiresAt: num(row.expires_at),
  };
}

/** Edge leases in a SQL table shared by every backend; time comes from the store's clock. */
export class SqlEdgeLeaseRepository implements EdgeLeaseRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async renew(lease: NewEdgeLease): Promise<EdgeLease> {
    const now = this.clock.now();
    const expires = now + Math.max(1, Math.round(lease.ttlMs));
    // One statement, so two edges claiming one id at once cannot both win: the update only
    // happens for the same instance or over an expired lease.
    const row = await this.db
      .insertInto('edge_leases')
      .values({
        server_id: lease.serverId,
        address: lease.address,
        instance: lease.instance,
        started_at: now,
        renewed_at: now,
        expires_at: expires,
      })
      .onConflict((oc) =>
        oc
          .column('server_id')
          .doUpdateSet({
            address: lease.address,
            instance: lease.instance,
            started_at: sql<number>`case when edge_leases.instance = ${lease.instance} then edge_leases.started_at else ${now} end`,
            renewed_at: now,
            expires_at: expires,
          })
          .where(
            sql<boolean>`edge_leases.instance = ${lease.instance} or edge_leases.expires_at <= ${now}`,
          ),
      )
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) return toLease(row);
    const holder = await this.db
      .selectFrom('edge_leases')
      .selectAll()
      .where('server_id', '=', lease.serverId)
      .executeTakeFirst();
    throw StoreErrors.serverIdTaken(lease.serverId, holder?.address ?? 'another edge');
  }

  async live(): Promise<EdgeLease[]> {
    const rows = await this.db
      .selectFrom('edge_leases')
      .selectAll()
      .where('expires_at', '>', this.clock.now())
      .orderBy('server_id')
      .execute();
    return rows.map(toLease);
  }

  async release(serverId: string, instance: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('edge_leases')
      .where('server_id', '=', serverId)
      .where('instance', '=', instance)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async prune(): Promise<number> {
    const result = await this.db
      .deleteFrom('edge_leases')
      .where('expires_at', '<=', this.clock.now())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
