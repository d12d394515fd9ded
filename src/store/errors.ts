import { PosternError } from '../core/index.js';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A file system error in words, for backup and restore messages. */
function fileProblem(cause: unknown, verb: 'read' | 'write'): string {
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (code === 'ENOENT') {
    return verb === 'read' ? 'the file does not exist' : 'its directory does not exist';
  }
  if (code === 'EACCES' || code === 'EPERM') return `this user may not ${verb} it`;
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'ENOTDIR') return 'a part of its path is not a directory';
  if (code === 'ENOSPC') return 'the disk is full';
  return String((cause as Error | undefined)?.message ?? cause);
}

const createKeyHint = (group: string) => `\`postern keys create --group ${group}\``;

/** Errors raised by src/store. */
export const StoreErrors = {
  keyUnknown: (id: string) =>
    new PosternError(
      'POSTERN_ERR_KEY_UNKNOWN',
      `Provisioning key ${id} does not exist (or its secret does not match). Check that the ` +
        `whole key was copied, or create a new one with \`postern keys create --group <group>\`.`,
    ),
  keyRevoked: (id: string, group: string) =>
    new PosternError(
      'POSTERN_ERR_KEY_REVOKED',
      `Provisioning key ${id} has been revoked and can no longer enroll connectors. ` +
        `Create a new key with ${createKeyHint(group)}.`,
    ),
  keyDisabled: (id: string) =>
    new PosternError(
      'POSTERN_ERR_KEY_DISABLED',
      `Provisioning key ${id} is disabled. Enable it again with \`postern keys enable ${id}\` ` +
        `or use another key of the group.`,
    ),
  keyExpired: (id: string, group: string, expiresAt: number) =>
    new PosternError(
      'POSTERN_ERR_KEY_EXPIRED',
      `Provisioning key ${id} expired at ${iso(expiresAt)}. ` +
        `Create a new key with ${createKeyHint(group)}.`,
    ),
  keyExhausted: (id: string, group: string, maxUsage: number) =>
    new PosternError(
      'POSTERN_ERR_KEY_EXHAUSTED',
      `Provisioning key ${id} has been used ${maxUsage} of ${maxUsage} times. ` +
        `Create a new key with ${createKeyHint(group)} or raise its limit with ` +
        `\`postern keys update ${id} --max-usage <n>\`.`,
    ),
  keySourceDenied: (id: string, sourceIp: string | undefined, cidrs: readonly string[]) =>
    new PosternError(
      'POSTERN_ERR_KEY_SOURCE_DENIED',
      `Provisioning key ${id} accepts enrollments only from ${cidrs.join(', ')}, ` +
        `not from ${sourceIp ?? 'an unknown address'}. Enroll from an allowed network or ` +
        `create a key whose source CIDRs include this one.`,
    ),
  notFound: (what: string, name: string, listCommand: string) =>
    new PosternError(
      'POSTERN_ERR_NOT_FOUND',
      `${what} "${name}" does not exist. See the existing ones with \`${listCommand}\`.`,
    ),
  groupHasConnectors: (group: string, liveIds: readonly string[], cause?: unknown) => {
    const shown = liveIds.slice(0, 5).join(', ') + (liveIds.length > 5 ? ', …' : '');
    const which =
      liveIds.length === 0 ? 'live connectors' : `${liveIds.length} live connector(s) (${shown})`;
    return new PosternError(
      'POSTERN_ERR_CONFLICT',
      `Connector group "${group}" still has ${which}. Delete (revoke) each with ` +
        `\`postern connectors delete <id>\` (see \`postern connectors list --group ${group}\`), ` +
        `then delete the group again with \`postern groups delete ${group}\`; revoked ` +
        `connectors are removed with the group.`,
      cause === undefined ? {} : { cause },
    );
  },
  conflict: (message: string, cause?: unknown) =>
    new PosternError('POSTERN_ERR_CONFLICT', message, cause === undefined ? {} : { cause }),
  connectorRevoked: (id: string) =>
    new PosternError(
      'POSTERN_ERR_CONNECTOR_REVOKED',
      `Connector ${id} has been revoked; its certificate cannot be renewed. ` +
        `Enroll it again with a provisioning key to get a new identity.`,
    ),
  openFailed: (location: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_STORE_OPEN',
      `Cannot open the store at ${location}: ${String((cause as Error)?.message ?? cause)}. ` +
        `Check that the data directory exists, is writable by this user and is not on a ` +
        `network file system.`,
      { cause },
    ),
  storeMissing: (location: string, check: string) =>
    new PosternError(
      'POSTERN_ERR_STORE_MISSING',
      `There is no Postern store at ${location}. ${check}`,
    ),
  migrationFailed: (cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_STORE_MIGRATION',
      `The store's schema could not be brought up to date: ` +
        `${String((cause as Error)?.message ?? cause)}. If the data was written by a newer ` +
        `Postern, run that version or restore a backup made for this one.`,
      { cause },
    ),
  badStoreUrl: (location: string) =>
    new PosternError(
      'POSTERN_ERR_STORE_URL',
      `"${location}" is not a store location Postern understands. Use a PostgreSQL URL ` +
        `(postgres://user:password@host:5432/database) or leave --store unset to use the ` +
        `embedded store in the data directory.`,
    ),
  connectFailed: (location: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_STORE_CONNECT',
      `Cannot connect to the PostgreSQL store at ${location}: ` +
        `${String((cause as Error)?.message ?? cause)}. Check the host, port, database name, ` +
        `user and password in --store (env POSTERN_STORE) and that the server accepts ` +
        `connections from this host.`,
      { cause },
    ),
  backupInvalid: (problem: string) =>
    new PosternError(
      'POSTERN_ERR_BACKUP_INVALID',
      `The backup file cannot be restored: ${problem}. Use a file written by ` +
        `\`postern admin backup\` of this or an older Postern version.`,
    ),
  backupWriteFailed: (file: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_BACKUP_WRITE',
      `Cannot write the backup file ${file}: ${fileProblem(cause, 'write')}. Nothing was ` +
        `written; choose a path in an existing directory this user may write to.`,
      { cause },
    ),
  backupReadFailed: (file: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_BACKUP_READ',
      `Cannot read the backup file ${file}: ${fileProblem(cause, 'read')}. Nothing was ` +
        `restored; check the path and that this user may read the file.`,
      { cause },
    ),
  restoreTargetRequired: () =>
    new PosternError(
      'POSTERN_ERR_RESTORE_TARGET_REQUIRED',
      `Tell \`postern admin restore\` where to restore: pass --data-dir <dir> (the edge's data ` +
        `directory, env POSTERN_DATA_DIR) or --store postgres://… (env POSTERN_STORE). ` +
        `Restore has no default, so that it never fills a store you did not mean.`,
    ),
  restoreNotEmpty: (counts: string) =>
    new PosternError(
      'POSTERN_ERR_RESTORE_NOT_EMPTY',
      `The target store is not empty (${counts}). Restore into an empty store, or pass ` +
        `--force to replace everything in it with the backup.`,
    ),
  serverIdTaken: (serverId: string, holder: string) =>
    new PosternError(
      'POSTERN_ERR_SERVER_ID_TAKEN',
      `Server id "${serverId}" is held by a running edge (${holder}). Give every edge its own ` +
        `--server-id (env POSTERN_SERVER_ID), or leave it unset for a random one; after a crash ` +
        `the old lease expires within the lease TTL.`,
    ),
} as const;
