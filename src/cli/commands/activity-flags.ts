import type { Command } from 'commander';
import { CoreErrors } from '../../core/index.js';

const env = process.env;

/** Values of the activity retention flags as commander parses them. */
export interface ActivityFlags {
  activityRetentionEntries?: string;
  activityRetentionDays?: string;
}

/** Adds the user activity retention flags to `postern edge`. */
export function addActivityFlags(command: Command): Command {
  return command
    .option(
      '--activity-retention-entries <n>',
      'user activity entries kept in the store, newest first (env POSTERN_ACTIVITY_RETENTION_ENTRIES; default 100000)',
      env.POSTERN_ACTIVITY_RETENTION_ENTRIES,
    )
    .option(
      '--activity-retention-days <n>',
      'user activity older than this is deleted (env POSTERN_ACTIVITY_RETENTION_DAYS; default 30)',
      env.POSTERN_ACTIVITY_RETENTION_DAYS,
    );
}

/** The edge's activity retention options; absent flags leave the defaults. */
export function activityOptions(o: ActivityFlags): {
  activityRetentionEntries: number | undefined;
  activityRetentionDays: number | undefined;
} {
  return {
    activityRetentionEntries: positiveInteger(
      o.activityRetentionEntries,
      '--activity-retention-entries',
    ),
    activityRetentionDays: positiveInteger(o.activityRetentionDays, '--activity-retention-days'),
  };
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw CoreErrors.invalidArgument(flag, `"${value}" is not a whole number above 0`);
  }
  return n;
}
