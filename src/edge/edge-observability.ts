import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  ActivityHistory,
  ActivityLog,
  LogStreamingService,
  type AuditHook,
} from '../control/index.js';
import type { Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import type { ConnectorRegistry } from './connector-registry.js';
import type { EdgeMetrics } from './edge-metrics.js';
import { auditFields, streamActivity } from './activity-streaming.js';
import { startConnectorLogs } from './connector-logs.js';
import type { Closer } from './edge-closer.js';

/** The edge options the records read. */
export interface ObservabilityOptions {
  readonly dataDir: string;
  readonly logMetricsIntervalMs?: number | undefined;
  readonly activityCapacity?: number | undefined;
  readonly onAudit?: AuditHook | undefined;
}

type LogReceivers = Parameters<LogStreamingService['configure']>[0];

/** The edge's records: the user activity log and log streaming with its sources. */
export interface EdgeObservability {
  readonly logs: LogStreamingService;
  readonly activity: ActivityLog;
  /** Streams an admin API audit record, then hands it to `options.onAudit`. */
  readonly onAudit: AuditHook;
  /** Follows the configuration's log receivers, once {@link goLive} has been called. */
  configure(receivers: LogReceivers): void;
  /** Starts delivering to the receivers: called last in a start, so a failed one leaves no connection. */
  goLive(receivers: LogReceivers): void;
  /** Stops the sources, then flushes and closes the receivers. */
  close(flushTimeoutMs: number): Promise<void>;
}

/** Starts log streaming (spooled under the data dir) with connector, activity and audit sources. */
export function startEdgeObservability(
  options: ObservabilityOptions,
  parts: { registry: ConnectorRegistry; metrics: EdgeMetrics; log: Logger; clock: Clock },
): EdgeObservability {
  const { registry, metrics, log, clock } = parts;
  const logs = new LogStreamingService({
    spoolDir: join(options.dataDir, 'log-spool'),
    logger: log,
    clock,
    registry: metrics.registry,
  });
  let live = false;
  const stopConnectorLogs = startConnectorLogs(registry, logs, {
    clock,
    metricsIntervalMs: options.logMetricsIntervalMs,
  });
  const activity = new ActivityLog({
    logger: log.child({ component: 'activity' }),
    registry: metrics.registry,
    clock,
    ...(options.activityCapacity === undefined ? {} : { capacity: options.activityCapacity }),
  });
  const stopActivityStream = streamActivity(activity, logs, registry);
  return {
    logs,
    activity,
    onAudit: (record) => {
      logs.publish('audit', auditFields(record));
      options.onAudit?.(record);
    },
    configure: (receivers) => {
      if (live) logs.configure(receivers);
    },
    goLive: (receivers) => {
      live = true;
      logs.configure(receivers);
    },
    close: async (flushTimeoutMs) => {
      stopConnectorLogs();
      stopActivityStream();
      await logs.close({ flushTimeoutMs });
    },
  };
}

/** The edge options the shared activity history reads (see EdgeOptions). */
export interface ActivityRetentionOptions {
  readonly activityRetentionEntries?: number | undefined;
  readonly activityRetentionDays?: number | undefined;
}

/** Writes the activity log to the store every edge shares, and serves its reads from there. */
export function startActivityHistory(
  options: ActivityRetentionOptions,
  parts: {
    store: Store;
    activity: ActivityLog;
    serverId: string;
    metrics: EdgeMetrics;
    log: Logger;
    clock: Clock;
    closer: Closer;
  },
): ActivityHistory {
  const history = new ActivityHistory(parts.store.activity, {
    serverId: parts.serverId,
    clock: parts.clock,
    logger: parts.log.child({ component: 'activity-history' }),
    registry: parts.metrics.registry,
    retentionEntries: options.activityRetentionEntries,
    retentionDays: options.activityRetentionDays,
  });
  history.start(parts.activity);
  parts.closer.add('activity history', () => history.close());
  return history;
}
