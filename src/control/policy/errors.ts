import { PosternError } from '../../core/index.js';

/** Errors of the access policy engine. */
export const policyErrors = {
  badOrder: (why: string) =>
    new PosternError(
      'POSTERN_ERR_POLICY_ORDER',
      `The new access rule order is not a reordering of the current rules: ${why}. List every current rule name exactly once.`,
    ),
} as const;
