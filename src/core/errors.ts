/**
 * The error contract shared by every layer: a stable `code`, a message that says
 * what happened and how to fix it, and the underlying `cause`.
 */
export class PosternError extends Error {
  /** Stable, documented identifier that callers match on (see docs/errors.md). */
  readonly code: string;

  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'PosternError';
    this.code = code;
  }
}

/** True when `err` is a PosternError, optionally with the given code. */
export function isPosternError(err: unknown, code?: string): err is PosternError {
  return err instanceof PosternError && (code === undefined || err.code === code);
}

/** Errors raised by src/core itself. */
export const CoreErrors = {
  invalidArgument: (what: string, hint: string) =>
    new PosternError('POSTERN_ERR_INVALID_ARGUMENT', `Invalid ${what}: ${hint}`),
  aborted: (what: string) =>
    new PosternError('POSTERN_ERR_ABORTED', `${what} was aborted before it finished.`),
} as const;
