import { PosternError } from '../../core/index.js';

/** Errors of log streaming. */
export const logStreamErrors = {
  spoolFailed: (receiver: string, dir: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_LOG_SPOOL',
      `The disk spool of log receiver "${receiver}" in ${dir} cannot be written or read (${(cause as Error).message}); records that do not fit in memory are dropped. Free disk space or fix the directory's permissions.`,
      { cause },
    ),
  receiverUnreachable: (receiver: string, address: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_LOG_RECEIVER_UNREACHABLE',
      `Log receiver "${receiver}" at ${address} cannot be reached (${(cause as Error).message}); records wait in its queue and the edge retries. Check that the receiver listens there and, for tls, that its certificate matches tls.ca and tls.server_name.`,
      { cause },
    ),
  unknownLogType: (type: string) =>
    new PosternError(
      'POSTERN_ERR_LOG_TYPE_UNKNOWN',
      `"${type}" is not a log type; use one of user_activity, user_status, connector_status, connector_metrics, audit.`,
    ),
} as const;
