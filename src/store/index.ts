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
  ConnectorGroupChanges,
  AdminRole,
  AdminTokenRecord,
  NewAdminToken,
  AdminTokenRepository,
  AuditOutcome,
  AuditRecord,
  NewAuditRecord,
  AuditFilter,
  AuditRepository,
  SessionRepository,
  SessionSweep,
  StoredBrowserSession,
  StoredPendingLogin,
  ConnectorTunnelRecord,
  ConnectorTunnelRepository,
  ActivityRecord,
  ActivityFilter,
  ActivityPrune,
  ActivityRepository,
  DeviceAuthorizationStatus,
  DeviceAuthorizationRecord,
  NewDeviceAuthorization,
  DeviceAuthorizationRepository,
  DeviceAttemptCount,
  DeviceAttemptRepository,
} from './store.js';
export type {
  EdgeLease,
  NewEdgeLease,
  EdgeLeaseRepository,
  StoreChange,
  ChangeFeed,
} from './store.js';
export { CHANGE_CHANNEL } from './change-feed.js';
export type { EmbeddedStoreOptions } from './embedded-store.js';
export { openEmbeddedStore, openMemoryStore, EMBEDDED_DB_FILE } from './embedded-store.js';
export type { PostgresStoreOptions } from './postgres-store.js';
export { openPostgresStore, isPostgresUrl, redactConnectionString } from './postgres-store.js';
export type { BackupDocument } from './backup.js';
export { exportState, importState, parseBackup, BACKUP_FORMAT, BACKUP_VERSION } from './backup.js';
export type { OpenStoreOptions } from './open-store.js';
export { openStore } from './open-store.js';
