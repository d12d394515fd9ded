import type { ColumnType } from 'kysely';

/**
 * A 64-bit integer column. SQLite hands back numbers, while node-postgres hands back int8 as
 * text, so reads are typed as either and converted with Number() in the row mappers.
 */
export type Int8 = ColumnType<number | string, number, number>;
/** Booleans are stored as 0/1 integers: SQLite has no boolean type and better-sqlite3 cannot bind one. */
export type Flag = number;

/** Table row types, shared by every backend. Column names avoid SQL keywords (`group`). */
export interface Database {
  connector_groups: {
    name: string;
    description: string | null;
    auto_delete_after_days: number | null;
    owner: string;
    created_at: Int8;
  };
  provisioning_keys: {
    id: string;
    group_name: string;
    secret_hash: string;
    max_usage: number;
    usage_count: number;
    expires_at: Int8 | null;
    /** JSON array of CIDR strings, or null for "any source". */
    source_cidrs: string | null;
    enabled: Flag;
    revoked: Flag;
    revoked_at: Int8 | null;
    created_at: Int8;
  };
  connectors: {
    id: string;
    group_name: string;
    key_id: string;
    ephemeral: Flag;
    cert_serial: string;
    cert_not_after: Int8;
    created_at: Int8;
    last_seen_at: Int8 | null;
    version: string | null;
    private_ip: string | null;
    public_ip: string | null;
    revoked: Flag;
    revoked_at: Int8 | null;
    /** Set while an admin has the connector draining (every edge), from migration 0007. */
    draining_at: Int8 | null;
  };
  settings: {
    name: string;
    /** JSON text. */
    value: string;
    updated_at: Int8;
  };
  objects: {
    kind: string;
    name: string;
    /** JSON text. */
    spec: string;
    owner: string;
    created_at: Int8;
    updated_at: Int8;
  };
  admin_tokens: {
    id: string;
    name: string;
    role: string;
    secret_hash: string;
    created_at: Int8;
    last_used_at: Int8 | null;
    expires_at: Int8 | null;
    revoked: Flag;
    revoked_at: Int8 | null;
  };
  audit_log: {
    id: string;
    at: Int8;
    actor: string;
    method: string;
    path: string;
    kind: string | null;
    name: string | null;
    /** JSON text, secrets redacted. */
    before: string | null;
    /** JSON text, secrets redacted. */
    after: string | null;
    outcome: string;
    status: number;
    error_code: string | null;
    /** The admin API client's address; null for the edge's own records and older rows. */
    source: string | null;
  };
  edge_leases: {
    server_id: string;
    address: string;
    instance: string;
    started_at: Int8;
    renewed_at: Int8;
    expires_at: Int8;
  };
  browser_sessions: {
    /** SHA-256 of the session cookie, never the cookie. */
    key: string;
    virtual_server: string;
    /** JSON text: the user's identity. */
    identity: string;
    authenticated_at: Int8;
    last_seen_at: Int8;
    /** The provider's `auth_time` in ms, from migration 0013; null when unknown. */
    auth_time: ColumnType<number | string | null, number | null | undefined, number | null>;
    /** The login's ID token (for id_token_hint), from migration session_id_token; null: none. */
    id_token: ColumnType<string | null, string | null | undefined, string | null>;
  };
  pending_logins: {
    /** SHA-256 of the OIDC state parameter. */
    key: string;
    /** JSON text: what the callback must check. */
    login: string;
    expires_at: Int8;
  };
  connector_tunnels: {
    connector_id: string;
    server_id: string;
    remote_address: string;
    since: Int8;
  };
  /** The user activity log of every edge, from migration 0009. */
  user_activity: {
    /** Sorts by time (see ActivityRecord.id); the newest-first order and the page token. */
    id: string;
    at: Int8;
    server_id: string;
    seq: Int8;
    kind: string;
    session_id: string;
    user_name: string | null;
    /** JSON array of the user's group names. */
    user_groups: string;
    client_type: string;
    source: string;
    application: string | null;
    destination: string;
    rule: string | null;
    action: string;
    reason: string;
    status: number | null;
    connector: string | null;
    bytes_from_client: Int8 | null;
    bytes_to_client: Int8 | null;
    duration_ms: Int8 | null;
    close_reason: string | null;
  };
  /** Pending `postern login --device` authorizations, from migration 0010. */
  device_authorizations: {
    /** SHA-256 of the device code, never the code. */
    device_key: string;
    /** SHA-256 of the normalized user code. */
    user_key: string;
    /** pending, approved or denied. */
    status: string;
    client_ip: string;
    created_at: Int8;
    expires_at: Int8;
    interval_ms: Int8;
    last_poll_at: Int8 | null;
    /** JSON text: the identity of the user who approved. */
    identity: string | null;
    decided_at: Int8 | null;
  };
  /** Device login attempt counters shared by every edge, from migration 0011. */
  device_attempts: {
    /** What is counted, e.g. `wrong-code:ip:<address>`; never a code. */
    key: string;
    /** Attempts counted since `window_start`. */
    attempts: Int8;
    window_start: Int8;
    /** When the window ends: the count (and a lock) lapses then. */
    expires_at: Int8;
  };
}
