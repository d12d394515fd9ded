import { CoreErrors } from '../../core/index.js';
import { parseDuration } from '../output.js';

/** Shortest `--cli-token-ttl`: a login every few minutes would only train users to click Allow. */
const MIN_MS = 5 * 60_000;
/** Longest `--cli-token-ttl`: a stolen laptop's token should not outlive a week. */
const MAX_MS = 7 * 86_400_000;

/** Help text of `postern edge --cli-token-ttl`. */
export const CLI_TOKEN_TTL_HELP =
  'lifetime of the token `postern login` stores, 5m..7d, e.g. 30m, 8h, 2d (env POSTERN_CLI_TOKEN_TTL; default 8h)';

/**
 * The CLI token lifetime of `--cli-token-ttl` in milliseconds (undefined: the edge's default of
 * 8 h); a coded error for a value that is not a duration or lies outside 5m..7d.
 */
export function cliTokenTtlMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms < MIN_MS || ms > MAX_MS) {
    throw CoreErrors.invalidArgument(
      `--cli-token-ttl "${text}"`,
      'give a lifetime from 5m to 7d, e.g. 8h.',
    );
  }
  return ms;
}
