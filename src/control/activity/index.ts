export { ActivityLog } from './activity-log.js';
export type { ActivityLogOptions, ActivityPage, ActivitySubscriber } from './activity-log.js';
export type { ActivityEntry, ActivityInput, ActivityKind } from './activity-entry.js';
export { registerActivityRoutes, activityView } from './activity-routes.js';
