import type {
  ConnectorRecord,
  ConnectorTunnelRecord,
  ProvisioningKeyRecord,
} from '../store/index.js';
import type { RuntimeView } from './runtime-view.js';

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** A connector group as the API shows it. */
export function groupView(g: {
  name: string;
  description?: string;
  autoDeleteAfterDays?: number;
  owner: string;
}) {
  return {
    name: g.name,
    description: g.description,
    auto_delete_after_days: g.autoDeleteAfterDays,
    owner: g.owner,
  };
}

/** A provisioning key as the API shows it (never its secret). */
export function keyView(k: ProvisioningKeyRecord) {
  return {
    id: k.id,
    group: k.group,
    max_usage: k.maxUsage,
    usage_count: k.usageCount,
    expires_at: iso(k.expiresAt),
    source_cidrs: k.sourceCidrs,
    enabled: k.enabled,
    revoked: k.revoked,
    created_at: iso(k.createdAt),
  };
}

type LiveTunnel = ReturnType<RuntimeView['connected']>[number];

/** One edge holding a connector's tunnel, as the API shows it. */
export interface EdgeConnection {
  readonly server_id: string;
  readonly remote_address: string;
  /** When the tunnel came up; absent when the store has no record of it (yet). */
  readonly since?: string | undefined;
}

/**
 * The edges holding a connector's tunnel: the store's records of live edges (see
 * `store.tunnels`), with this edge's own entry taken from its registry, which is always current.
 */
export function edgesConnected(
  records: readonly ConnectorTunnelRecord[],
  live: LiveTunnel | undefined,
  serverId: string | undefined,
): EdgeConnection[] {
  const self = serverId ?? 'this-edge';
  const others = records
    .filter((r) => r.serverId !== self)
    .map((r) => ({
      server_id: r.serverId,
      remote_address: r.remoteAddress,
      since: iso(r.since),
    }));
  if (!live) return others;
  const own = records.find((r) => r.serverId === self);
  const mine = { server_id: self, remote_address: live.remoteAddress, since: iso(own?.since) };
  return [...others, mine].sort((a, b) => (a.server_id < b.server_id ? -1 : 1));
}

/** A connector as the API shows it: live tunnel state here, and every edge holding it. */
export function connectorView(
  c: ConnectorRecord,
  live: LiveTunnel | undefined,
  edges: readonly EdgeConnection[] = [],
) {
  const connected = live !== undefined || edges.length > 0;
  return {
    id: c.id,
    group: c.group,
    key_id: c.keyId,
    ephemeral: c.ephemeral,
    status: c.revoked
      ? 'revoked'
      : connected
        ? live?.draining === true || c.drainingSince !== undefined
          ? 'draining'
          : 'connected'
        : 'disconnected',
    // An admin's drain (every edge, until undrain), whether or not the connector is connected.
    draining: c.drainingSince !== undefined,
    draining_since: iso(c.drainingSince),
    version: c.version,
    private_ip: c.privateIp,
    public_ip: c.publicIp,
    remote_address: live?.remoteAddress ?? edges[0]?.remote_address,
    // Sessions through this edge's tunnel only.
    active_sessions: live?.activeSessions ?? 0,
    // Every live edge of the HA set holding a tunnel of this connector.
    edges_connected: edges,
    cert_serial: c.certSerial,
    cert_not_after: iso(c.certNotAfter),
    last_seen_at: iso(c.lastSeenAt),
    created_at: iso(c.createdAt),
  };
}
