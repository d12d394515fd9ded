import type { LogType } from '../../config/index.js';

/** A field value of a log record: records are flat so that every format can carry them. */
export type LogValue = string | number | boolean | null;

/** The fields a source publishes; `type` and `time` are added by the service. */
export type LogFields = Readonly<Record<string, LogValue | undefined>>;

/** A record as it is queued and delivered: its type, its time (RFC 3339) and its fields. */
export type LogRecord = Readonly<Record<string, LogValue>> & {
  readonly type: LogType;
  readonly time: string;
};

/**
 * The CSV columns of each log type, in order (docs/logs.md describes each field). A JSON
 * record carries these fields too, plus any other fields its source added.
 */
export const csvColumns: Readonly<Record<LogType, readonly string[]>> = {
  user_activity: [
    'time',
    'session_id',
    'user',
    'client_ip',
    'application',
    'virtual_server',
    'target',
    'action',
    'outcome',
    'policy',
    'connector_id',
    'connector_group',
    'bytes_from_client',
    'bytes_to_client',
    'duration_ms',
  ],
  user_status: ['time', 'user', 'idp', 'client_ip', 'action', 'outcome', 'reason'],
  connector_status: [
    'time',
    'connector_id',
    'connector_group',
    'action',
    'outcome',
    'remote_address',
    'hostname',
    'version',
    'reason',
  ],
  connector_metrics: [
    'time',
    'connector_id',
    'connector_group',
    'active_sessions',
    'sessions_opened',
    'bytes_to_connector',
    'bytes_from_connector',
    'connected_seconds',
    'draining',
  ],
  audit: ['time', 'actor', 'action', 'object_kind', 'object_name', 'outcome', 'source', 'detail'],
};
