import type { AccessAction, ClientType } from '../../config/index.js';
import type { ActivityRecord } from '../../store/index.js';
import type { ActivityEntry, ActivityKind } from './activity-entry.js';

/**
 * The stored record of an entry. Its id is the entry's millisecond (15 digits, so ids sort by
 * time), the writer's random tag and the entry's sequence number (10 digits): unique across
 * edges and restarts, and in recording order within one edge.
 */
export function activityRecord(
  entry: ActivityEntry,
  options: { readonly serverId: string; readonly writer: string },
): ActivityRecord {
  const parsed = Date.parse(entry.time);
  const at = Number.isFinite(parsed) && parsed >= 0 ? parsed : 0;
  const seq = entry.seq % 10_000_000_000;
  return {
    id: `${String(at).padStart(15, '0')}-${options.writer}-${String(seq).padStart(10, '0')}`,
    at,
    serverId: options.serverId,
    seq: entry.seq,
    kind: entry.kind,
    sessionId: entry.sessionId,
    groups: entry.groups,
    clientType: entry.clientType,
    source: entry.source,
    destination: entry.destination,
    action: entry.action,
    reason: entry.reason,
    ...optional({
      user: entry.user,
      application: entry.application,
      rule: entry.rule,
      status: entry.status,
      connector: entry.connector,
      bytesFromClient: entry.bytesFromClient,
      bytesToClient: entry.bytesToClient,
      durationMs: entry.durationMs,
      closeReason: entry.closeReason,
    }),
  };
}

/** The entry of a stored record, with the recording edge's server id as `edge`. */
export function entryOf(record: ActivityRecord): ActivityEntry {
  return Object.freeze({
    seq: record.seq,
    time: new Date(record.at).toISOString(),
    kind: record.kind as ActivityKind,
    sessionId: record.sessionId,
    user: record.user,
    groups: Object.freeze([...record.groups]),
    clientType: record.clientType as ClientType,
    source: record.source,
    application: record.application,
    destination: record.destination,
    rule: record.rule,
    action: record.action as AccessAction,
    reason: record.reason,
    status: record.status,
    connector: record.connector,
    bytesFromClient: record.bytesFromClient,
    bytesToClient: record.bytesToClient,
    durationMs: record.durationMs,
    closeReason: record.closeReason,
    edge: record.serverId,
  });
}

/** The entries whose value is defined (exactOptionalPropertyTypes). */
function optional<T extends Record<string, unknown>>(
  fields: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
