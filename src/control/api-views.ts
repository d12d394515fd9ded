import type { ConnectorRecord, ProvisioningKeyRecord } from '../store/index.js';
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

/** A connector as the API shows it, with its live tunnel state. */
export function connectorView(
  c: ConnectorRecord,
  live: ReturnType<RuntimeView['connected']>[number] | undefined,
  serverId?: string,
) {
  return {
    id: c.id,
    group: c.group,
    key_id: c.keyId,
    ephemeral: c.ephemeral,
    status: c.revoked
      ? 'revoked'
      : live
        ? live.draining || c.drainingSince !== undefined
          ? 'draining'
          : 'connected'
        : 'disconnected',
    // An admin's drain (every edge, until undrain), whether or not the connector is connected.
    draining: c.drainingSince !== undefined,
    draining_since: iso(c.drainingSince),
    version: c.version,
    private_ip: c.privateIp,
    public_ip: c.publicIp,
    remote_address: live?.remoteAddress,
    active_sessions: live?.activeSessions ?? 0,
    // The edges this connector holds a tunnel to, as far as this edge knows: itself.
    edges_connected: live ? [serverId ?? 'this-edge'] : [],
    cert_serial: c.certSerial,
    cert_not_after: iso(c.certNotAfter),
    last_seen_at: iso(c.lastSeenAt),
    created_at: iso(c.createdAt),
  };
}
