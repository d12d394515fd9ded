/**
 * The persistence contract. Every backend (embedded SQLite, PostgreSQL) implements
 * `Store` and passes the same conformance suite (store-conformance.ts). Times are epoch
 * milliseconds; `get` returns undefined for a missing object, while changes to a missing object
 * throw POSTERN_ERR_NOT_FOUND.
 */

/** Who owns an object: the admin API, or the configuration document with that file name. */
export type Owner = 'api' | `document:${string}`;

/** Any value that survives JSON.stringify / JSON.parse unchanged. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A stored connector group. */
export interface ConnectorGroupRecord {
  readonly name: string;
  readonly description?: string;
  readonly autoDeleteAfterDays?: number;
  readonly owner: Owner;
  readonly createdAt: number;
}

/** Input for creating a connector group; `owner` defaults to 'api'. */
export interface NewConnectorGroup {
  readonly name: string;
  readonly description?: string;
  readonly autoDeleteAfterDays?: number;
  readonly owner?: Owner;
}

/** Connector groups. */
export interface GroupRepository {
  /** Creates a group; POSTERN_ERR_CONFLICT when the name is taken. */
  create(group: NewConnectorGroup): Promise<ConnectorGroupRecord>;
  get(name: string): Promise<ConnectorGroupRecord | undefined>;
  /** All groups, by name. */
  list(): Promise<ConnectorGroupRecord[]>;
  /** Deletes a group and its provisioning keys; POSTERN_ERR_CONFLICT while connectors remain. */
  delete(name: string): Promise<void>;
}

/** A stored provisioning key; the secret itself is never stored, only its hash. */
export interface ProvisioningKeyRecord {
  readonly id: string;
  readonly group: string;
  readonly secretHash: string;
  readonly maxUsage: number;
  readonly usageCount: number;
  readonly expiresAt?: number;
  readonly sourceCidrs?: readonly string[];
  readonly enabled: boolean;
  readonly revoked: boolean;
  readonly revokedAt?: number;
  readonly createdAt: number;
}

/** Input for creating a provisioning key; `maxUsage` defaults to 100, `enabled` to true. */
export interface NewProvisioningKey {
  readonly id: string;
  readonly group: string;
  readonly secretHash: string;
  readonly maxUsage?: number;
  readonly expiresAt?: number;
  readonly sourceCidrs?: readonly string[];
  readonly enabled?: boolean;
}

/** How a key is consumed during enrollment. */
export interface ConsumeOptions {
  /** The time of the enrollment (from the injected clock), compared with `expiresAt`. */
  readonly now: number;
  /** The enrolling peer's address; required when the key has source CIDRs. */
  readonly sourceIp?: string;
  /**
   * Runs inside the transaction right after the key is loaded and before its state is
   * checked, so a secret check here does not reveal the key's state to someone without the
   * secret. Throwing rejects the enrollment and consumes nothing. Keep it fast: the embedded
   * backend holds its only connection while it runs.
   */
  readonly check?: (key: ProvisioningKeyRecord) => void | Promise<void>;
}

/** Provisioning keys, including the atomic use counter. */
export interface ProvisioningKeyRepository {
  /** Creates a key; POSTERN_ERR_NOT_FOUND for an unknown group, CONFLICT for a taken id. */
  create(key: NewProvisioningKey): Promise<ProvisioningKeyRecord>;
  get(id: string): Promise<ProvisioningKeyRecord | undefined>;
  /** Keys, oldest first, optionally of one group. */
  list(filter?: { readonly group?: string }): Promise<ProvisioningKeyRecord[]>;
  /** Revokes a key for good (idempotent). */
  revoke(id: string): Promise<ProvisioningKeyRecord>;
  setEnabled(id: string, enabled: boolean): Promise<ProvisioningKeyRecord>;
  /** Changes how many enrollments the key allows in total (at least 1). */
  setMaxUsage(id: string, maxUsage: number): Promise<ProvisioningKeyRecord>;
  /**
   * Atomically checks a key and counts one use. Rejects with POSTERN_ERR_KEY_UNKNOWN, _REVOKED,
   * _DISABLED, _EXPIRED, _SOURCE_DENIED or _EXHAUSTED (or what `check` throws), consuming
   * nothing; otherwise returns the key with its new usage count.
   */
  consume(id: string, options: ConsumeOptions): Promise<ProvisioningKeyRecord>;
  /** Gives one use back (an ephemeral connector left gracefully); never goes below 0. */
  release(id: string): Promise<ProvisioningKeyRecord>;
}

/** A stored connector. */
export interface ConnectorRecord {
  readonly id: string;
  readonly group: string;
  readonly keyId: string;
  readonly ephemeral: boolean;
  readonly certSerial: string;
  readonly certNotAfter: number;
  readonly createdAt: number;
  readonly lastSeenAt?: number;
  readonly version?: string;
  readonly privateIp?: string;
  readonly publicIp?: string;
  readonly revoked: boolean;
  readonly revokedAt?: number;
}

/** Input for recording an enrolled connector. */
export interface NewConnector {
  readonly id: string;
  readonly group: string;
  readonly keyId: string;
  readonly ephemeral: boolean;
  readonly certSerial: string;
  readonly certNotAfter: number;
}

/** Status fields a connector reports or renewal changes; omitted fields stay as they are. */
export interface ConnectorStatus {
  readonly lastSeenAt?: number;
  readonly version?: string;
  readonly privateIp?: string;
  readonly publicIp?: string;
  readonly certSerial?: string;
  readonly certNotAfter?: number;
}

/** Enrolled connectors. */
export interface ConnectorRepository {
  /** Records a connector; NOT_FOUND for an unknown group or key, CONFLICT for a taken id. */
  create(connector: NewConnector): Promise<ConnectorRecord>;
  get(id: string): Promise<ConnectorRecord | undefined>;
  /** Connectors, oldest first, optionally of one group. */
  list(filter?: { readonly group?: string }): Promise<ConnectorRecord[]>;
  /** Updates status fields; a new certificate for a revoked connector is refused. */
  update(id: string, status: ConnectorStatus): Promise<ConnectorRecord>;
  /** Revokes a connector for good (idempotent). */
  markRevoked(id: string): Promise<ConnectorRecord>;
  delete(id: string): Promise<void>;
}

/** Small named JSON values: the CA reference, the admin token hash, and the like. */
export interface SettingsRepository {
  get(name: string): Promise<JsonValue | undefined>;
  set(name: string, value: JsonValue): Promise<void>;
  /** Removes a setting; false when there was none. */
  delete(name: string): Promise<boolean>;
}

/** A stored configuration object (pool, virtual server, …) by kind and name. */
export interface StoredObject {
  readonly kind: string;
  readonly name: string;
  readonly spec: JsonValue;
  readonly owner: Owner;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Input for creating a stored object; `owner` defaults to 'api'. */
export interface NewStoredObject {
  readonly kind: string;
  readonly name: string;
  readonly spec: JsonValue;
  readonly owner?: Owner;
}

/** Configuration objects created through the API, keyed by kind and name. */
export interface ObjectRepository {
  /** Creates an object; POSTERN_ERR_CONFLICT when kind and name are taken. */
  create(object: NewStoredObject): Promise<StoredObject>;
  get(kind: string, name: string): Promise<StoredObject | undefined>;
  /** Objects by kind then name, optionally filtered. */
  list(filter?: { readonly kind?: string; readonly owner?: Owner }): Promise<StoredObject[]>;
  /** Replaces an object's spec. */
  update(kind: string, name: string, spec: JsonValue): Promise<StoredObject>;
  delete(kind: string, name: string): Promise<void>;
}

/** A stored setting with its last change time. */
export interface SettingRecord {
  readonly name: string;
  readonly value: JsonValue;
  readonly updatedAt: number;
}

/** Every stored row as records, exactly as stored (counters, revocations and times included). */
export interface StoreSnapshot {
  readonly groups: readonly ConnectorGroupRecord[];
  readonly provisioningKeys: readonly ProvisioningKeyRecord[];
  readonly connectors: readonly ConnectorRecord[];
  readonly settings: readonly SettingRecord[];
  readonly objects: readonly StoredObject[];
}

/** Whole-store reads and writes, for backup and restore. */
export interface SnapshotRepository {
  /** Reads every table in one repeatable-read transaction, so the snapshot is consistent. */
  read(): Promise<StoreSnapshot>;
  /**
   * Writes a snapshot in one transaction. Without `replace` a store that holds any row is
   * refused with POSTERN_ERR_RESTORE_NOT_EMPTY; with it, everything is deleted first. Rows that
   * reference missing ones fail with POSTERN_ERR_BACKUP_INVALID; on any failure nothing changes.
   */
  write(snapshot: StoreSnapshot, options?: { readonly replace?: boolean }): Promise<void>;
}

/** Every repository behind one handle. */
export interface Store {
  readonly groups: GroupRepository;
  readonly provisioningKeys: ProvisioningKeyRepository;
  readonly connectors: ConnectorRepository;
  readonly settings: SettingsRepository;
  readonly objects: ObjectRepository;
  readonly snapshot: SnapshotRepository;
  /** Closes the connection(s); the store must not be used afterwards. */
  close(): Promise<void>;
}
