import type { Command } from 'commander';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../../edge/index.js';
import { secondsFlag } from './ha-flags.js';

const env = process.env;

/** The edge's shutdown flags as commander gives them. */
export interface ShutdownFlags {
  shutdownGrace?: string;
  drainTimeout?: string;
}

/** Both flags take 0 (no grace, cut at once) up to an hour. */
const RANGE = { min: 0, max: 3600 } as const;

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
      `then how long requests and sessions in flight may take to finish before they are cut (env POSTERN_DRAIN_TIMEOUT; default ${DEFAULT_DRAIN_TIMEOUT_MS / 1000})`,
      env.POSTERN_DRAIN_TIMEOUT,
    );
}

/** The edge options of the shutdown flags; absent flags leave the defaults. */
export function shutdownOptions(o: ShutdownFlags): {
  shutdownGraceMs?: number;
  drainTimeoutMs?: number;
} {
  const grace = secondsFlag(o.shutdownGrace, '--shutdown-grace', RANGE);
  const drain = secondsFlag(o.drainTimeout, '--drain-timeout', RANGE);
  return {
    ...(grace === undefined ? {} : { shutdownGraceMs: grace }),
    ...(drain === undefined ? {} : { drainTimeoutMs: drain }),
  };
}

/** How long the primary waits for a worker to stop: its grace and drain, and 30 s for the rest. */
export function workerStopTimeoutMs(o: { shutdownGraceMs?: number; drainTimeoutMs?: number }) {
  return (o.shutdownGraceMs ?? 0) + (o.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS) + 30_000;
}
