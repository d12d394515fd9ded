import { PosternError } from '../core/index.js';
import type { ConfigProblem } from './problems.js';
import { formatProblems, sortProblems } from './problems.js';

/** A PosternError that carries every problem found, so callers can report them all at once. */
export class ConfigProblemsError extends PosternError {
  /** Each problem with its file, line, column and path. */
  readonly problems: readonly ConfigProblem[];

  constructor(code: string, message: string, problems: readonly ConfigProblem[]) {
    super(code, message);
    this.problems = Object.freeze(sortProblems(problems));
  }
}

/** Code of every `valueFrom` file-reference problem (bad form, bad path, unreadable file). */
export const FILE_REF_CODE = 'POSTERN_ERR_CONFIG_FILE_REF';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Errors raised by src/config. */
export const ConfigErrors = {
  invalid: (problems: readonly ConfigProblem[]) =>
    new ConfigProblemsError(
      'POSTERN_ERR_CONFIG_INVALID',
      `The configuration is invalid (${plural(problems.length, 'problem')}). ` +
        `Fix each problem below and apply the document again; nothing was changed.\n` +
        formatProblems(problems),
      problems,
    ),
  references: (problems: readonly ConfigProblem[]) =>
    new ConfigProblemsError(
      'POSTERN_ERR_CONFIG_REFERENCE',
      `The configuration refers to objects that do not exist or clash ` +
        `(${plural(problems.length, 'problem')}). Create the missing objects or correct the ` +
        `names and addresses below; nothing was changed.\n` +
        formatProblems(problems),
      problems,
    ),
  /** A `valueFrom.fileRef` that cannot be read; readers throw it, documents report it. */
  fileRef: (name: string, reason: string) =>
    new PosternError(
      FILE_REF_CODE,
      `valueFrom file "${name}" cannot be used: ${reason}. Reference a readable file inside ` +
        `the configuration directory, by a relative path without "..".`,
    ),
  invalidHostPort: (input: string, reason: string) =>
    new PosternError(
      'POSTERN_ERR_INVALID_HOST_PORT',
      `"${input}" is not a valid host:port: ${reason}. ` +
        `Write it as name:port, IPv4:port or [IPv6]:port, e.g. db.internal:5432, ` +
        `10.0.0.5:8080 or [fd00::5]:8080.`,
    ),
} as const;
