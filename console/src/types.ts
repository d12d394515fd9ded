// Shapes of the admin API's answers, as the console reads them (see /api/v1/openapi.json).

/** A connector group. */
export interface Group {
  etag?: string;
  name: string;
  description?: string;
  auto_delete_after_days?: number;
  owner: string;
}

/** A provisioning key (never its secret, except `value` once at creation). */
export interface ProvisioningKey {
  etag?: string;
  id: string;
  group: string;
  max_usage: number;
  usage_count: number;
  expires_at?: string;
  source_cidrs?: string[];
  enabled: boolean;
  revoked: boolean;
  created_at?: string;
  value?: string;
}

/** A connector with its live tunnel state on this edge. */
export interface Connector {
  etag?: string;
  id: string;
  group: string;
  key_id?: string;
  ephemeral?: boolean;
  status: 'connected' | 'draining' | 'disconnected' | 'revoked';
  version?: string;
  private_ip?: string;
  public_ip?: string;
  remote_address?: string;
  active_sessions: number;
  cert_not_after?: string;
  last_seen_at?: string;
  created_at?: string;
}

/** A virtual server (the fields the console shows). */
export interface VirtualServer {
  name: string;
  protocol: string;
  listen: string;
  pool?: string;
  enabled?: boolean;
  owner: string;
}

/** One node of a pool's live status. */
export interface PoolNode {
  address: string;
  state: string;
  source: string;
  removed: boolean;
  health: string;
  activeConnections: number;
  failures: number;
  lastError?: string;
  /** ISO 8601 (UTC), like every time the admin API serves. */
  lastErrorAt?: string;
  /** ISO 8601 (UTC): until when passive health keeps the node out. */
  ejectedUntil?: string;
  avgResponseMs?: number;
  /** HTTP requests sent to the node by outcome (2xx, 4xx, connect, ...). */
  requests?: Record<string, number>;
  /** Sessions started on the node by tcp/tls virtual servers. */
  sessions?: number;
  weight?: number;
  /** Most requests or sessions in progress on the node at once; 0 = no limit. */
  maxConnections?: number;
  /** Set while the node is in slow start: its weight now. */
  slowStart?: { weight: number; endsAt: string };
}

/** A pool with its live status. */
export interface Pool {
  name: string;
  via?: string;
  nodes?: { address: string }[];
  owner: string;
  /** How long a pick waits for a node below its limit; 0 or absent = no queue. */
  queue_timeout_ms?: number;
  /** Most picks waiting in the queue. */
  queue_max?: number;
  status?: {
    algorithm: string;
    panic: boolean;
    down: boolean;
    available: number;
    nodes: PoolNode[];
    /** Requests and sessions waiting for a node below its connection limit. */
    queued?: number;
    /** Waits that ended in queue_timeout_ms since the pool first ran on this edge. */
    queueTimeouts?: number;
  };
}

/** An application segment. */
export interface Application {
  name: string;
  description?: string;
  domains?: string[];
  cidrs?: string[];
  ports: string[];
  connector_groups: string[];
  enabled?: boolean;
  owner?: string;
  health_reporting?: 'none' | 'on_access' | 'continuous';
  /** Reported by connectors (read-only). */
  health?: { state: string; reporting: string; last_check_at: string | null };
}

/** An access policy rule. */
export interface AccessPolicy {
  etag?: string;
  name: string;
  description?: string;
  action: 'allow' | 'deny';
  conditions?: Record<string, unknown[] | undefined>;
  owner?: string;
}

/** One problem in a configuration document. */
export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
  code?: string;
}

/** The importer's status, or `{ enabled: false }` when the edge watches no directory. */
export interface ImportStatus {
  enabled?: false;
  generation?: number;
  ok?: boolean;
  lastSuccessAt?: string | null;
  lastAttemptAt?: string | null;
  code?: string | null;
  problems?: ConfigProblem[];
  files?: string[];
  referencedFiles?: string[];
}
