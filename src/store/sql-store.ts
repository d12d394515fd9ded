import type { Kysely } from 'kysely';
import type { Clock } from '../core/index.js';
import { SqlConnectorRepository } from './connector-repository.js';
import type { Database } from './database.js';
import { SqlGroupRepository } from './group-repository.js';
import { SqlObjectRepository } from './object-repository.js';
import { SqlProvisioningKeyRepository } from './provisioning-key-repository.js';
import { SqlSettingsRepository } from './settings-repository.js';
import { SqlSnapshotRepository } from './snapshot-repository.js';
import type { Store } from './store.js';

/**
 * A Store over any migrated Kysely database; backends differ only in how they open the
 * connection, so the SQL and its behaviour are shared.
 */
export function createSqlStore(db: Kysely<Database>, options: { clock: Clock }): Store {
  const { clock } = options;
  return {
    groups: new SqlGroupRepository(db, clock),
    provisioningKeys: new SqlProvisioningKeyRepository(db, clock),
    connectors: new SqlConnectorRepository(db, clock),
    settings: new SqlSettingsRepository(db, clock),
    objects: new SqlObjectRepository(db, clock),
    snapshot: new SqlSnapshotRepository(db, clock),
    close: () => db.destroy(),
  };
}
