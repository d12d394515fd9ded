import type {
  AccessDecisionEntry,
  ActivityEntry,
  ActivityInput,
  ActivityLog,
  LogPublisher,
} from '../control/index.js';
import type { AuditRecord } from '../store/index.js';
import type { ConnectorRegistry } from './connector-registry.js';

/** A browser access decision from the identity gate, as a user activity record. */
export function browserDecisionActivity(entry: AccessDecisionEntry): ActivityInput {
  return {
    time: entry.time,
    kind: 'decision',
    sessionId: '',
    user: entry.user,
    groups: entry.groups,
    clientType: 'browser',
    source: entry.source,
    destination: `virtual_server:${entry.virtual_server}`,
    rule: entry.rule ?? undefined,
    action: entry.action,
    reason: entry.reason,
    status: entry.action === 'allow' ? 200 : 403,
  };
}

/** The user_activity log-stream record of an activity entry (columns in docs/logs.md). */
export function userActivityFields(entry: ActivityEntry, connectorGroup?: string) {
  return {
    time: entry.time,
    session_id: entry.sessionId || undefined,
    user: entry.user,
    groups: entry.groups.join(','),
    client_type: entry.clientType,
    client_ip: entry.source,
    application: entry.application,
    virtual_server: entry.destination.startsWith('virtual_server:')
      ? entry.destination.slice('virtual_server:'.length)
      : undefined,
    target: entry.destination,
    action: entry.kind === 'session_end' ? 'session_end' : entry.action,
    outcome: entry.kind === 'session_end' ? (entry.closeReason ?? 'closed') : entry.action,
    policy: entry.rule,
    reason: entry.reason,
    status: entry.status,
    connector_id: entry.connector,
    connector_group: connectorGroup,
    bytes_from_client: entry.bytesFromClient,
    bytes_to_client: entry.bytesToClient,
    duration_ms: entry.durationMs,
  };
}

/**
 * The audit log-stream record of an audit record (columns in docs/logs.md); before/after
 * travel as JSON text, `source` is the admin API client's address when there was a request.
 */
export function auditFields(record: AuditRecord) {
  return {
    time: new Date(record.at).toISOString(),
    actor: record.actor,
    action: `${record.method} ${record.path}`,
    object_kind: record.kind,
    object_name: record.name,
    outcome: record.outcome,
    source: record.source,
    status: record.status,
    error_code: record.errorCode,
    detail: JSON.stringify({ before: record.before ?? null, after: record.after ?? null }),
  };
}

/** Streams every user activity entry as a user_activity record; returns the unsubscribe. */
export function streamActivity(
  activity: ActivityLog,
  logs: LogPublisher,
  registry: ConnectorRegistry,
): () => void {
  return activity.onRecord((entry) => {
    const group = entry.connector ? registry.get(entry.connector)?.group : undefined;
    logs.publish('user_activity', userActivityFields(entry, group));
  });
}
