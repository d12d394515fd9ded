import type { Kysely } from 'kysely';
import type { Clock } from '../core/index.js';
import { SqlAdminTokenRepository } from './admin-token-repository.js';
import { SqlAuditRepository } from './audit-repository.js';
import { SqlConnectorRepository } from './connector-repository.js';
import type { Database } from './database.js';
import { SqlGroupRepository } from './group-repository.js';
import { SqlObjectRepository } from './object-repository.js';
import { SqlProvisioningKeyRepository } from './provisioning-key-repository.js';
import { SqlSettingsRepository } from './settings-repository.js';
import { SqlSnapshotRepository } from './snapshot-repository.js';
import { SqlEdgeLeaseRepository } from './edge-lease-repository.js';
import { SqlSessionRepository } from './session-repository.js';
import { SqlConnectorTunnelRepository } from './connector-tunnel-repository.js';
import { SqlActivityRepository } from './activity-repository.js';
import { SqlDeviceAuthorizationRepository } from './device-authorization-repository.js';
import { SqlDeviceAttemptRepository } from './device-attempt-repository.js';
import type { ChangeFeed, Store } from './store.js';

/**
 * A Store over any migrated Kysely database; backends differ only in how they open the
 * connection, so the SQL and its behaviour are shared.
 */
export function createSqlStore(
  db: Kysely<Database>,
  options: { clock: Clock; changes: ChangeFeed & { close(): void | Promise<void> } },
): Store {
  const { clock, changes } = options;
  return {
    edges: new SqlEdgeLeaseRepository(db, clock),
    changes,
    groups: new SqlGroupRepository(db, clock),
    provisioningKeys: new SqlProvisioningKeyRepository(db, clock),
    connectors: new SqlConnectorRepository(db, clock),
    settings: new SqlSettingsRepository(db, clock),
    objects: new SqlObjectRepository(db, clock),
    adminTokens: new SqlAdminTokenRepository(db, clock),
    audit: new SqlAuditRepository(db, clock),
    snapshot: new SqlSnapshotRepository(db, clock),
    sessions: new SqlSessionRepository(db),
    tunnels: new SqlConnectorTunnelRepository(db, clock),
    activity: new SqlActivityRepository(db),
    deviceAuthorizations: new SqlDeviceAuthorizationRepository(db),
    deviceAttempts: new SqlDeviceAttemptRepository(db),
    close: async () => {
      await changes.close();
      await db.destroy();
    },
  };
}
