import type { Command } from 'commander';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../../edge/index.js';
import { secondsFlag } from './ha-flags.js';

const env = process.env;

/** The edge's shutdown flags as commander gives them. */
export interface ShutdownFlags {
  shutdownGrace?: string;
  drainTimeout?: string;
  reloadDrainTimeout?: string;
}

/** Grace and drain (the edge's and the connector's) take 0 (none, cut at once) up to an hour. */
const RANGE = { min: 0, max: 3600 } as const;

/** Sessions of a server a reload took away may run up to a day (long downloads, SSH). */
const RELOAD_RANGE = { min: 0, max: 86_400 } as const;

/** Adds `--shutdown-grace`, `--drain-timeout` and `--reload-drain-timeout` to `postern edge`. */
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
    )
    .option(
      '--reload-drain-timeout <seconds>',
      'how long sessions of a virtual server that a configuration change removed, disabled or moved may finish before they are cut (env POSTERN_RELOAD_DRAIN_TIMEOUT; default 30, up to 86400)',
      env.POSTERN_RELOAD_DRAIN_TIMEOUT,
    );
}

/**
 * Milliseconds from a `--drain-timeout` value, the edge's or the connector's, or undefined when
 * it was not given; anything but 0 to 3600 seconds is POSTERN_ERR_INVALID_ARGUMENT.
 */
export function drainTimeoutFlag(value: string | undefined): number | undefined {
  return secondsFlag(value, '--drain-timeout', RANGE);
}

/** The edge options of the shutdown flags; absent flags leave the defaults. */
export function shutdownOptions(o: ShutdownFlags): {
  shutdownGraceMs?: number;
  drainTimeoutMs?: number;
  reloadDrainTimeoutMs?: number;
} {
  const grace = secondsFlag(o.shutdownGrace, '--shutdown-grace', RANGE);
  const drain = drainTimeoutFlag(o.drainTimeout);
  const reload = secondsFlag(o.reloadDrainTimeout, '--reload-drain-timeout', RELOAD_RANGE);
  return {
    ...(grace === undefined ? {} : { shutdownGraceMs: grace }),
    ...(drain === undefined ? {} : { drainTimeoutMs: drain }),
    ...(reload === undefined ? {} : { reloadDrainTimeoutMs: reload }),
  };
}

/** How long the primary waits for a worker to stop: its grace and drain, and 30 s for the rest. */
export function workerStopTimeoutMs(o: { shutdownGraceMs?: number; drainTimeoutMs?: number }) {
  return (o.shutdownGraceMs ?? 0) + (o.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS) + 30_000;
}
