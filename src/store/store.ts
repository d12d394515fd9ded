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
  /**
   * Changes a group's description or auto-delete setting; `null` clears a field, an omitted one
   * stays. POSTERN_ERR_NOT_FOUND for a missing group.
   */
  update(name: string, changes: ConnectorGroupChanges): Promise<ConnectorGroupRecord>;
  /**
   * Deletes a group with its provisioning keys and its revoked connectors, in one transaction;
   * POSTERN_ERR_CONFLICT while live (not revoked) connectors remain.
   */
  delete(name: string): Promise<void>;
}

/** Fields of a connector group that can change after creation. */
export interface ConnectorGroupChanges {
  readonly description?: string | null;
  readonly autoDeleteAfterDays?: number | null;
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
  /** When an admin set the connector draining (every edge, reconnects too); absent: not draining. */
  readonly drainingSince?: number;
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
  /** Connectors, oldest first, optionally of one group or only (not) draining ones. */
  list(filter?: {
    readonly group?: string;
    readonly draining?: boolean;
  }): Promise<ConnectorRecord[]>;
  /**
   * Sets or clears an admin's drain; setting keeps the first drain time. POSTERN_ERR_NOT_FOUND
   * for a missing connector.
   */
  setDraining(id: string, draining: boolean): Promise<ConnectorRecord>;
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

/** The role of an admin token: what its holder may do through the admin API. */
export type AdminRole = 'admin' | 'operator' | 'viewer';

/** A stored admin token; only the hash of its secret is kept. */
export interface AdminTokenRecord {
  readonly id: string;
  readonly name: string;
  readonly role: AdminRole;
  readonly secretHash: string;
  readonly createdAt: number;
  readonly lastUsedAt?: number;
  readonly expiresAt?: number;
  readonly revoked: boolean;
  readonly revokedAt?: number;
}

/** Input for creating an admin token. */
export interface NewAdminToken {
  readonly id: string;
  readonly name: string;
  readonly role: AdminRole;
  readonly secretHash: string;
  readonly expiresAt?: number;
}

/** Admin API tokens with roles. */
export interface AdminTokenRepository {
  /** Creates a token; POSTERN_ERR_CONFLICT when the id or name is taken. */
  create(token: NewAdminToken): Promise<AdminTokenRecord>;
  get(id: string): Promise<AdminTokenRecord | undefined>;
  /** All tokens, by name. */
  list(): Promise<AdminTokenRecord[]>;
  /** Records a use at `at` (the clock's time of the request). */
  touch(id: string, at: number): Promise<void>;
  /** Revokes a token for good (idempotent); POSTERN_ERR_NOT_FOUND for a missing one. */
  revoke(id: string): Promise<AdminTokenRecord>;
}

/** Whether an audited change succeeded. */
export type AuditOutcome = 'success' | 'failure';

/** One audited change made through the admin API (or by the edge itself). */
export interface AuditRecord {
  /** Sorts in the order records were written (time first). */
  readonly id: string;
  readonly at: number;
  /** `token:<name>`, `bootstrap`, or `system:<task>`. */
  readonly actor: string;
  readonly method: string;
  readonly path: string;
  readonly kind?: string;
  readonly name?: string;
  /** The object before the change, secrets redacted; absent when it did not exist. */
  readonly before?: JsonValue;
  /** The object after the change, secrets redacted; absent when it no longer exists. */
  readonly after?: JsonValue;
  readonly outcome: AuditOutcome;
  readonly status: number;
  readonly errorCode?: string;
  /**
   * The admin API client's address (the request's TCP peer; no proxy is looked through);
   * absent for the edge's own records (`system:<task>`) and for records stored before 0012.
   */
  readonly source?: string;
}

/** Input for appending an audit record; the store assigns `id` and `at` defaults to now. */
export type NewAuditRecord = Omit<AuditRecord, 'id' | 'at'> & { readonly at?: number };

/** Which audit records to list; newest first, `before` an id for the next page. */
export interface AuditFilter {
  readonly kind?: string;
  readonly actor?: string;
  /** Inclusive lower bound on `at`. */
  readonly since?: number;
  /** Exclusive upper bound on `at`. */
  readonly until?: number;
  /** Only records older than this id (keyset pagination). */
  readonly before?: string;
  /** Most records to return; default 100. */
  readonly limit?: number;
}

/** The append-only audit log. */
export interface AuditRepository {
  append(record: NewAuditRecord): Promise<AuditRecord>;
  /** Records matching `filter`, newest first. */
  list(filter?: AuditFilter): Promise<AuditRecord[]>;
}

/** Every stored row as records, exactly as stored (counters, revocations and times included). */
export interface StoreSnapshot {
  readonly groups: readonly ConnectorGroupRecord[];
  readonly provisioningKeys: readonly ProvisioningKeyRecord[];
  readonly connectors: readonly ConnectorRecord[];
  readonly settings: readonly SettingRecord[];
  readonly objects: readonly StoredObject[];
  readonly adminTokens: readonly AdminTokenRecord[];
  /** Oldest first. */
  readonly auditLog: readonly AuditRecord[];
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

/** One edge's membership of the HA set: held while the edge renews it. */
export interface EdgeLease {
  readonly serverId: string;
  /** The edge's advertised tunnel address. */
  readonly address: string;
  /** Random per process start: tells a restart of the same id from two edges clashing. */
  readonly instance: string;
  readonly startedAt: number;
  readonly renewedAt: number;
  readonly expiresAt: number;
}

/** Input for taking or renewing a lease. */
export interface NewEdgeLease {
  readonly serverId: string;
  readonly address: string;
  readonly instance: string;
  /** How long the lease lasts without another renewal, in ms. */
  readonly ttlMs: number;
}

/** Leases of the edges in the HA set; the live ones are the set. */
export interface EdgeLeaseRepository {
  /**
   * Takes or renews the lease of `serverId`. Rejects with POSTERN_ERR_SERVER_ID_TAKEN while
   * another instance holds a lease on that id that has not expired.
   */
  renew(lease: NewEdgeLease): Promise<EdgeLease>;
  /** Leases that have not expired, by server id. */
  live(): Promise<EdgeLease[]>;
  /** Gives up this instance's lease (at shutdown); false when it held none. */
  release(serverId: string, instance: string): Promise<boolean>;
  /** Deletes expired leases; returns how many. */
  prune(): Promise<number>;
}

/** A change one edge announced to every edge sharing the store. */
export interface StoreChange {
  /** What changed, for example `config` or `edges`. */
  readonly topic: string;
  /** Who announced it (a server id), so an edge can skip its own announcements. */
  readonly origin: string;
}

/**
 * Change notification between the edges of one store: PostgreSQL LISTEN/NOTIFY, or an
 * in-process bus for the embedded store (one process owns that file anyway).
 */
export interface ChangeFeed {
  /** `cluster` when other processes hear announcements, `process` when only this one does. */
  readonly scope: 'cluster' | 'process';
  /** Announces a change; best effort, so callers keep a periodic check as a fallback. */
  publish(change: StoreChange): Promise<void>;
  /** Calls `listener` for every change announced on this store, own ones included. */
  subscribe(listener: (change: StoreChange) => void): () => void;
}

/** A browser session as stored; `identity` is the user's identity as JSON. */
export interface StoredBrowserSession {
  /** SHA-256 of the cookie value, never the cookie. */
  readonly key: string;
  readonly virtualServer: string;
  readonly identity: JsonValue;
  readonly authenticatedAt: number;
  readonly lastSeenAt: number;
  /** When the identity provider authenticated the user (its `auth_time`, ms); absent: unknown. */
  readonly authTime?: number | undefined;
  /** The login's ID token, for the provider's logout (id_token_hint); absent: none kept. */
  readonly idToken?: string | undefined;
}

/** A login sent to an identity provider and not yet back; `login` is opaque JSON. */
export interface StoredPendingLogin {
  /** SHA-256 of the OIDC state parameter. */
  readonly key: string;
  readonly login: JsonValue;
  readonly expiresAt: number;
}

/** Which sessions a sweep deletes: all of them authenticated before a time, or by server. */
export interface SessionSweep {
  /** Pending logins that expired at or before this time go. */
  readonly now: number;
  /** Sessions authenticated before this time go, whatever their server. */
  readonly authenticatedBefore: number;
  /** Per virtual server: sessions authenticated or last seen before these times go. */
  readonly servers?: readonly {
    readonly virtualServer: string;
    readonly authenticatedBefore: number;
    /** Absent: the server has no idle timeout. */
    readonly lastSeenBefore?: number;
  }[];
}

/**
 * Browser sessions and pending logins shared by every edge. Ephemeral: never in a backup, and
 * a restore with `replace` ends them all.
 */
export interface SessionRepository {
  /** Stores a session, replacing one with the same key. */
  createSession(session: StoredBrowserSession): Promise<void>;
  getSession(key: string): Promise<StoredBrowserSession | undefined>;
  /** Records activity at `at` (never moves backwards); a no-op for a missing session. */
  touchSession(key: string, at: number): Promise<void>;
  /** Deletes a session; false when there was none. */
  deleteSession(key: string): Promise<boolean>;
  /** Stores a pending login, replacing one with the same key. */
  putPendingLogin(login: StoredPendingLogin): Promise<void>;
  /** Returns and deletes a pending login atomically: of two concurrent takes one wins. */
  takePendingLogin(key: string): Promise<StoredPendingLogin | undefined>;
  /** Deletes what `sweep` selects; returns how many sessions and pending logins went. */
  sweep(sweep: SessionSweep): Promise<{ sessions: number; pendingLogins: number }>;
  /**
   * Deletes every session of one user (identity `idp` and `subject`), whatever its server;
   * returns the keys of the sessions it deleted.
   */
  deleteUserSessions(user: { readonly idp: string; readonly subject: string }): Promise<string[]>;
}

/** One edge holding one connector's tunnel. */
export interface ConnectorTunnelRecord {
  readonly connectorId: string;
  /** The edge holding the tunnel. */
  readonly serverId: string;
  /** The connector's address as that edge sees it. */
  readonly remoteAddress: string;
  /** When the tunnel came up (ms since the epoch). */
  readonly since: number;
}

/**
 * Which edge holds which connector's tunnel, shared by the edges of an HA set. Ephemeral: never
 * in a backup; rows of an edge whose lease expired (or was released) are not listed.
 */
export interface ConnectorTunnelRepository {
  /** Records a tunnel, replacing the row of the same connector and edge. */
  up(tunnel: ConnectorTunnelRecord): Promise<void>;
  /** Forgets a tunnel; false when there was none. */
  down(connectorId: string, serverId: string): Promise<boolean>;
  /** Tunnels held by live edges (by connector, then server id), optionally of one connector. */
  list(connectorId?: string): Promise<ConnectorTunnelRecord[]>;
  /** Forgets every tunnel of one edge (at its start and clean shutdown); returns how many. */
  releaseEdge(serverId: string): Promise<number>;
}

/** One user activity record (an access decision or a session end) as stored. */
export interface ActivityRecord {
  /**
   * Assigned by the writer and unique: the 15-digit epoch millisecond of `at` first, so ids sort
   * by time (newest first is `id` descending), then what tells writers and records apart.
   */
  readonly id: string;
  readonly at: number;
  /** The edge that recorded it. */
  readonly serverId: string;
  /** The record's sequence number in that edge's own log. */
  readonly seq: number;
  /** `decision` or `session_end`. */
  readonly kind: string;
  readonly sessionId: string;
  readonly user?: string;
  readonly groups: readonly string[];
  readonly clientType: string;
  readonly source: string;
  readonly application?: string;
  readonly destination: string;
  readonly rule?: string;
  readonly action: string;
  readonly reason: string;
  readonly status?: number;
  readonly connector?: string;
  readonly bytesFromClient?: number;
  readonly bytesToClient?: number;
  readonly durationMs?: number;
  readonly closeReason?: string;
}

/** Which activity records to list: newest first, `before` an id for the next page. */
export interface ActivityFilter {
  /** Only records whose id sorts before this one (keyset pagination). */
  readonly before?: string;
  /** Most records to return; default 100, at most 1000. */
  readonly limit?: number;
}

/** What an activity prune deletes: records older than a time, and all but the newest ones. */
export interface ActivityPrune {
  /** Records with `at` before this time go. */
  readonly olderThan: number;
  /** At most this many of the newest records stay (at least 1). */
  readonly keep: number;
}

/**
 * The user activity log of every edge sharing the store, bounded by {@link prune}. Not part of
 * snapshots (a backup holds configuration, not traffic records).
 */
export interface ActivityRepository {
  /** Inserts records in one statement; a record whose id is already stored is skipped. */
  append(records: readonly ActivityRecord[]): Promise<void>;
  /** Records matching `filter`, newest (largest id) first. */
  list(filter?: ActivityFilter): Promise<ActivityRecord[]>;
  /** Deletes what `prune` selects; returns how many records went. */
  prune(prune: ActivityPrune): Promise<number>;
}

/** Where a device login stands: waiting for the user, or decided by them. */
export type DeviceAuthorizationStatus = 'pending' | 'approved' | 'denied';

/** One `postern login --device` authorization as stored. */
export interface DeviceAuthorizationRecord {
  /** SHA-256 of the device code (the CLI's secret). */
  readonly deviceKey: string;
  /** SHA-256 of the normalized user code (what the user types). */
  readonly userKey: string;
  readonly status: DeviceAuthorizationStatus;
  /** Address the CLI's request came from, shown to the approving user. */
  readonly clientIp: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Least time between two polls; grows on each `slow_down`. */
  readonly intervalMs: number;
  readonly lastPollAt?: number;
  /** The identity of the user who approved. */
  readonly identity?: JsonValue;
  readonly decidedAt?: number;
}

/** A new, pending device authorization. */
export type NewDeviceAuthorization = Omit<
  DeviceAuthorizationRecord,
  'status' | 'lastPollAt' | 'identity' | 'decidedAt'
>;

/**
 * Device logins shared by every edge, so the CLI may poll one edge while the user approves on
 * another. Ephemeral: never in a backup; expired rows go with {@link sweep}.
 */
export interface DeviceAuthorizationRepository {
  /** Stores a pending authorization; false when its device or user key is already taken. */
  create(record: NewDeviceAuthorization): Promise<boolean>;
  get(deviceKey: string): Promise<DeviceAuthorizationRecord | undefined>;
  findByUserKey(userKey: string): Promise<DeviceAuthorizationRecord | undefined>;
  /** Approves or denies a pending, unexpired authorization once; false otherwise. */
  decide(
    userKey: string,
    decision: {
      readonly status: 'approved' | 'denied';
      readonly at: number;
      readonly identity?: JsonValue;
    },
  ): Promise<boolean>;
  /**
   * Records a poll at `at`. False when it came sooner than the interval (less `leewayMs`) after
   * the previous one: then the interval grows by `slowDownMs`.
   */
  recordPoll(
    deviceKey: string,
    poll: { readonly at: number; readonly leewayMs: number; readonly slowDownMs: number },
  ): Promise<boolean>;
  /** Removes and returns a decided authorization of `status`, so it is redeemed once. */
  take(
    deviceKey: string,
    status: 'approved' | 'denied',
  ): Promise<DeviceAuthorizationRecord | undefined>;
  /** Deletes authorizations that expired before `before`; returns how many went. */
  sweep(before: number): Promise<number>;
}

/** An attempt counter after counting: how many attempts its window holds, and when it ends. */
export interface DeviceAttemptCount {
  readonly attempts: number;
  readonly windowStart: number;
  readonly expiresAt: number;
}

/**
 * Counters of device login attempts shared by every edge (fixed windows per key), so limits hold
 * for an HA set as a whole. Ephemeral: never in a backup; lapsed rows go with {@link sweep}.
 */
export interface DeviceAttemptRepository {
  /**
   * Counts one attempt against `key` at `at`, atomically even when edges race: a window that
   * ended (or none) starts over at 1 with `windowMs`, else the count grows by 1.
   */
  increment(
    key: string,
    attempt: { readonly at: number; readonly windowMs: number },
  ): Promise<DeviceAttemptCount>;
  /** Takes back one attempt counted in `key`'s window still running at `at` (a right code). */
  refund(key: string, at: number): Promise<void>;
  /** The count of `key`'s window running at `at`, or undefined when none runs. */
  get(key: string, at: number): Promise<DeviceAttemptCount | undefined>;
  /** Deletes counters whose window ended before `before`; returns how many went. */
  sweep(before: number): Promise<number>;
}

/** Every repository behind one handle. */
export interface Store {
  /** Live edges of the HA set. */
  readonly edges: EdgeLeaseRepository;
  /** Change announcements between edges. */
  readonly changes: ChangeFeed;
  readonly groups: GroupRepository;
  readonly provisioningKeys: ProvisioningKeyRepository;
  readonly connectors: ConnectorRepository;
  readonly settings: SettingsRepository;
  readonly objects: ObjectRepository;
  readonly adminTokens: AdminTokenRepository;
  readonly audit: AuditRepository;
  readonly snapshot: SnapshotRepository;
  /** Browser sessions and pending logins (not part of snapshots). */
  readonly sessions: SessionRepository;
  /** Which edge holds which connector's tunnel (not part of snapshots). */
  readonly tunnels: ConnectorTunnelRepository;
  /** The user activity log of every edge (not part of snapshots). */
  readonly activity: ActivityRepository;
  /** Pending `postern login --device` authorizations (not part of snapshots). */
  readonly deviceAuthorizations: DeviceAuthorizationRepository;
  /** Device login attempt counters of every edge (not part of snapshots). */
  readonly deviceAttempts: DeviceAttemptRepository;
  /** Closes the connection(s); the store must not be used afterwards. */
  close(): Promise<void>;
}
