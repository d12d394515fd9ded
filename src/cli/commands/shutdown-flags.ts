import type { Command } from 'commander';
import { CoreErrors } from '../../core/index.js';

const env = process.env;

/** The edge's shutdown flags as commander gives them. */
export interface ShutdownFlags {
  shutdownGrace?: string;
  drainTimeout?: string;
}

/** Default bound on sessions finishing after SIGTERM, in seconds. */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 10;

/** Adds `--shutdown-grace` and `--drain-timeout` to `postern edge`. */
export function addShutdownFlags(command: Command): Command {
  return command
    .option(
      '--shutdown-grace <seconds>',
      'on SIGTERM, keep serving this long after /readyz turns 503, so load balancers and Kubernetes endpoints stop sending new clients first (env POSTERN_SHUTDOWN_GRACE; default 0)',
      env.POSTERN_SHUTDOWN_GRACE,
    )
    .option(
      '--drain-timeout <seconds>',
      `then how long requests and sessions in flight may take to finish before they are cut (env POSTERN_DRAIN_TIMEOUT; default ${DEFAULT_DRAIN_TIMEOUT_SECONDS})`,
      env.POSTERN_DRAIN_TIMEOUT,
    );
}

/** The edge options of the shutdown flags; absent flags leave the defaults. */
export function shutdownOptions(o: ShutdownFlags): {
  shutdownGraceMs?: number;
  drainTimeoutMs?: number;
} {
  const grace = seconds(o.shutdownGrace, '--shutdown-grace');
  const drain = seconds(o.drainTimeout, '--drain-timeout');
  return {
    ...(grace === undefined ? {} : { shutdownGraceMs: grace }),
    ...(drain === undefined ? {} : { drainTimeoutMs: drain }),
  };
}

/** Milliseconds from a seconds flag that may be 0, or undefined when it was not given. */
function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const s = Number(value);
  if (!Number.isFinite(s) || s < 0 || s > 3600) {
    throw CoreErrors.invalidArgument(flag, `"${value}" is not a number of seconds from 0 to 3600`);
  }
  return Math.round(s * 1000);
}
