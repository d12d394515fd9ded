import type { Command } from 'commander';
import { parseDuration } from '../output.js';

const env = process.env;

/** Values of the connector enrollment flags of `postern edge` as commander parses them. */
export interface EnrollmentFlags {
  expiredRenewalGrace?: string;
}

/** Adds the flags about connector certificates to `postern edge`. */
export function addEnrollmentFlags(command: Command): Command {
  return command.option(
    '--expired-renewal-grace <duration>',
    'how long after its certificate expired an offline connector may still renew it with its old key, instead of enrolling again with a provisioning key; 0s turns this off (env POSTERN_EXPIRED_RENEWAL_GRACE; default 30d)',
    env.POSTERN_EXPIRED_RENEWAL_GRACE,
  );
}

/** The edge's enrollment options; an absent flag leaves the default. */
export function enrollmentOptions(o: EnrollmentFlags): { expiredRenewalGraceMs?: number } {
  if (o.expiredRenewalGrace === undefined || o.expiredRenewalGrace === '') return {};
  return { expiredRenewalGraceMs: parseDuration(o.expiredRenewalGrace) };
}
