import { PosternError } from '../core/index.js';

/** Errors of the command line itself (reading what flags point at). */
export const cliErrors = {
  secretFile: (flag: string, path: string, why: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_SECRET_FILE',
      `${flag} ${path}: ${why}. Point ${flag} at a readable file holding the value (in Kubernetes, the mounted Secret's key), or give the value another way.`,
      cause === undefined ? {} : { cause },
    ),
} as const;
