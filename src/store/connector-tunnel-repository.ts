import type { Kysely } from 'kysely';
import type { Clock } from '../core/index.js';
import type { Database } from './database.js';
import { num } from './row-mapping.js';
import type { ConnectorTunnelRecord, ConnectorTunnelRepository } from './store.js';

/** Connector tunnels in a SQL table shared by every backend; liveness from edge_leases. */
export class SqlConnectorTunnelRepository implements ConnectorTunnelRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async up(tunnel: ConnectorTunnelRecord): Promise<void> {
    await this.db
      .insertInto('connector_tunnels')
      .values({
        connector_id: tunnel.connectorId,
        server_id: tunnel.serverId,
        remote_address: tunnel.remoteAddress,
        since: tunnel.since,
      })
      .onConflict((oc) =>
        oc.columns(['connector_id', 'server_id']).doUpdateSet({
          remote_address: tunnel.remoteAddress,
          since: tunnel.since,
        }),
      )
      .execute();
  }

  async down(connectorId: string, serverId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('connector_tunnels')
      .where('connector_id', '=', connectorId)
      .where('server_id', '=', serverId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async list(connectorId?: string): Promise<ConnectorTunnelRecord[]> {
    // Joined with the live leases at read time: a crashed edge's rows vanish from the list the
    // moment its lease expires, with no sweeper to wait for.
    let query = this.db
      .selectFrom('connector_tunnels as t')
      .innerJoin('edge_leases as l', 'l.server_id', 't.server_id')
      .select(['t.connector_id', 't.server_id', 't.remote_address', 't.since'])
      .where('l.expires_at', '>', this.clock.now());
    if (connectorId !== undefined) query = query.where('t.connector_id', '=', connectorId);
    const rows = await query.orderBy('t.connector_id').orderBy('t.server_id').execute();
    return rows.map((r) => ({
      connectorId: r.connector_id,
      serverId: r.server_id,
      remoteAddress: r.remote_address,
      since: num(r.since),
    }));
  }

  async releaseEdge(serverId: string): Promise<number> {
    const result = await this.db
      .deleteFrom('connector_tunnels')
      .where('server_id', '=', serverId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
