export { StoreErrors } from './errors.js';
export type {
  Store,
  Owner,
  JsonValue,
  GroupRepository,
  ConnectorGroupRecord,
  NewConnectorGroup,
  ProvisioningKeyRepository,
  ProvisioningKeyRecord,
  NewProvisioningKey,
  ConsumeOptions,
  ConnectorRepository,
  ConnectorRecord,
  NewConnector,
  ConnectorStatus,
  SettingsRepository,
  ObjectRepository,
  StoredObject,
  NewStoredObject,
  SettingRecord,
  StoreSnapshot,
  SnapshotRepository,
} from './store.js';
export type { EmbeddedStoreOptions } from './embedded-store.js';
export { openEmbeddedStore, openMemoryStore, EMBEDDED_DB_FILE } from './embedded-store.js';
export type { PostgresStoreOptions } from './postgres-store.js';
export { openPostgresStore, isPostgresUrl, redactConnectionString } from './postgres-store.js';
export type { BackupDocument } from './backup.js';
export { exportState, importState, parseBackup, BACKUP_FORMAT, BACKUP_VERSION } from './backup.js';
export type { OpenStoreOptions } from './open-store.js';
export { openStore } from './open-store.js';
