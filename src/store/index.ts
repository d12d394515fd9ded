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
} from './store.js';
export type { EmbeddedStoreOptions } from './embedded-store.js';
export { openEmbeddedStore, openMemoryStore, EMBEDDED_DB_FILE } from './embedded-store.js';
