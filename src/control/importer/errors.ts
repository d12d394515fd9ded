import { PosternError } from '../../core/index.js';
import { ConfigProblemsError, formatProblems } from '../../config/index.js';
import type { ConfigProblem } from '../../config/index.js';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Errors raised by the configuration importer. */
export const importerErrors = {
  /** The configuration directory itself cannot be listed. */
  directory: (dir: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_CONFIG_DIR',
      `The configuration directory ${dir} cannot be read (${cause instanceof Error ? cause.message : String(cause)}). ` +
        `Check --config-dir and that the volume is mounted and readable; the running configuration stays.`,
      { cause },
    ),
  /** Certificates whose key or PEM text is unusable (all problems at once). */
  certificates: (problems: readonly ConfigProblem[]) =>
    new ConfigProblemsError(
      'POSTERN_ERR_CONFIG_CERTIFICATE',
      `The configuration holds unusable certificates (${plural(problems.length, 'problem')}). ` +
        `Give each certificate a PEM certificate and the unencrypted private key that ` +
        `belongs to it; nothing was changed.\n` +
        formatProblems(problems),
      problems,
    ),
  /** The new configuration was valid, but applying it failed (e.g. a port was taken). */
  applyFailed: (generation: number, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_CONFIG_APPLY',
      `Configuration generation ${generation} is valid but could not be applied: ` +
        `${(cause instanceof Error ? cause.message : String(cause)).replace(/\.$/, '')}. Fix the cause and change a ` +
        `document (or reload); the previous generation keeps running.`,
      { cause },
    ),
} as const;
