import { CoreErrors } from '../../core/index.js';

/** The largest `max_usage` the admin API accepts for a provisioning key. */
export const MAX_KEY_USAGE = 100_000;

/**
 * Parses `--max-usage`: a whole number from 1 to MAX_KEY_USAGE, checked here so that a typo is
 * named as the flag the operator typed rather than as the API field it becomes.
 */
export function parseMaxUsage(text: string): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_KEY_USAGE) {
    throw CoreErrors.invalidArgument(
      '--max-usage',
      `"${text}" is not allowed; --max-usage must be a whole number from 1 to ${MAX_KEY_USAGE}.`,
    );
  }
  return value;
}
