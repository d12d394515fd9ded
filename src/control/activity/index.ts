export { ActivityLog } from './activity-log.js';
export type { ActivityLogOptions, ActivityPage, ActivitySubscriber } from './activity-log.js';
export type { ActivityEntry, ActivityInput, ActivityKind } from './activity-entry.js';
export { registerActivityRoutes, activityView } from './activity-routes.js';
export type { ActivityPageOptions, ActivityReader } from './activity-log.js';
export type { ActivityHistoryOptions } from './activity-history.js';
export {
  ActivityHistory,
  DEFAULT_ACTIVITY_RETENTION_ENTRIES,
  DEFAULT_ACTIVITY_RETENTION_DAYS,
} from './activity-history.js';
