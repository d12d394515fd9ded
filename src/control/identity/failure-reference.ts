import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { PosternError } from '../../core/index.js';

/**
 * Logs `err` with a new reference id and returns the id for the visitor's page. The error's
 * message names addresses and tells the operator what to check, so it goes to the log only;
 * the visitor gets the code and the reference to quote to the administrator.
 */
export function logWithReference(
  logger: Logger | undefined,
  err: PosternError,
  message: string,
): string {
  const reference = randomUUID();
  logger?.warn({ err, reference }, message);
  return reference;
}
