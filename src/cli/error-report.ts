import { isPosternError } from '../core/index.js';

/**
 * Programming errors: the runtime throws these for mistakes in the code, not in the input, so
 * they are reported as bugs with where they happened. SyntaxError is left out on purpose:
 * JSON.parse throws it for a user's malformed file.
 */
const BUG_TYPES: readonly (new (...args: never[]) => Error)[] = [
  TypeError,
  ReferenceError,
  RangeError,
  EvalError,
];

/** How {@link describeFailure} renders an error. */
export interface FailureReport {
  /** What to print on stderr, ending with a newline. */
  readonly text: string;
  /** True when the error is a bug in Postern rather than a problem with the input. */
  readonly bug: boolean;
}

/**
 * The text the CLI prints for an error that ended a command: one `postern: …` line for coded
 * errors, file and network errors and other plain errors (operator mistakes); for a bug, one
 * line saying so and where it happened, and the whole stack only when `debug` is set
 * (POSTERN_DEBUG=1).
 */
export function describeFailure(
  err: unknown,
  options: { readonly debug?: boolean } = {},
): FailureReport {
  if (isPosternError(err))
    return { text: `postern: ${oneLine(err.message)} (${err.code})\n`, bug: false };
  const bug = isBug(err);
  const message = err instanceof Error ? err.message : String(err);
  const stack = options.debug && err instanceof Error && err.stack ? `${err.stack}\n` : '';
  if (!bug) return { text: `postern: ${oneLine(message)}\n${stack}`, bug };
  const where = err instanceof Error ? firstFrame(err.stack) : undefined;
  const line =
    `postern: internal error: ${oneLine(message)}${where ? ` (at ${where})` : ''}. ` +
    'This is a bug in Postern; please report it' +
    (options.debug ? '.' : ' with the output of the same command run with POSTERN_DEBUG=1.');
  return { text: `${line}\n${stack}`, bug };
}

/** The exit code of a mistake on the command line (unknown option, missing argument, …). */
export const USAGE_EXIT_CODE = 2;

/**
 * The line the CLI prints for a usage error: commander's `message` (`error: unknown option
 * '--x'`, possibly with a "Did you mean" line) as one `postern: …` line that names the `--help`
 * of `commandPath` (e.g. `postern keys create`).
 */
export function describeUsageError(message: string, commandPath: string): string {
  const what = oneLine(message.replace(/^error: /, ''));
  return `postern: ${what}; run \`${commandPath} --help\` for usage\n`;
}

function isBug(err: unknown): boolean {
  if (!(err instanceof Error)) return true;
  // Node's system errors (ENOENT, ECONNREFUSED, …) and a malformed URL given by the user are
  // the input's or the environment's fault, whatever their class.
  const { code, syscall } = err as NodeJS.ErrnoException;
  if (
    syscall !== undefined ||
    (typeof code === 'string' && /^(E[A-Z]+|ERR_INVALID_URL)$/.test(code))
  )
    return false;
  return BUG_TYPES.some((type) => err instanceof type) || err.name === 'AssertionError';
}

/** The first stack frame, e.g. `file:///…/main.js:12:3`, without the `at` and function name. */
function firstFrame(stack: string | undefined): string | undefined {
  const frame = stack?.split('\n').find((l) => /^\s+at /.test(l));
  if (!frame) return undefined;
  const inParens = /\((.*)\)\s*$/.exec(frame);
  return (inParens?.[1] ?? frame.replace(/^\s+at\s+/, '')).trim();
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
