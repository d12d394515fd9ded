import type { Command } from 'commander';
import { CoreErrors } from '../../core/index.js';

const env = process.env;

/** Values of the HA and keepalive flags as commander parses them. */
export interface HaFlags {
  leaseTtl?: string;
  configPoll?: string;
  keepaliveInterval?: string;
  keepaliveTimeout?: string;
}

/** Adds the tunnel keepalive flags (both commands) to a command. */
export function addKeepaliveFlags(command: Command): Command {
  return command
    .option(
      '--keepalive-interval <seconds>',
      'ping the tunnel peer this often (env POSTERN_KEEPALIVE_INTERVAL; default 15)',
      env.POSTERN_KEEPALIVE_INTERVAL,
    )
    .option(
      '--keepalive-timeout <seconds>',
      'a tunnel silent this long is dead and is replaced (env POSTERN_KEEPALIVE_TIMEOUT; default 30)',
      env.POSTERN_KEEPALIVE_TIMEOUT,
    );
}

/** Adds the connector's HA flags (sync interval) and the keepalive flags. */
export function addConnectorHaFlags(command: Command): Command {
  return addKeepaliveFlags(command).option(
    '--sync-interval <seconds>',
    'behind one address, wait this long after reaching an edge already held before dialing again (env POSTERN_SYNC_INTERVAL; default 1)',
    env.POSTERN_SYNC_INTERVAL,
  );
}

/** The connector's HA options from its flags. */
export function connectorHaOptions(o: HaFlags & { syncInterval?: string }): {
  syncIntervalMs: number | undefined;
  keepAliveIntervalMs?: number;
  keepAliveTimeoutMs?: number;
} {
  return { syncIntervalMs: secondsFlag(o.syncInterval, '--sync-interval'), ...keepaliveOptions(o) };
}

/** Adds the edge's HA flags (lease TTL, configuration check) and the keepalive flags. */
export function addEdgeHaFlags(command: Command): Command {
  return addKeepaliveFlags(command)
    .option(
      '--lease-ttl <seconds>',
      'HA lease lifetime: a crashed edge leaves the set after this long (env POSTERN_LEASE_TTL; default 15)',
      env.POSTERN_LEASE_TTL,
    )
    .option(
      '--workers <n>',
      'edge processes sharing the ports, each an HA member `<server-id>-w<n>` (env POSTERN_WORKERS; default every core with a PostgreSQL store, else 1)',
      env.POSTERN_WORKERS,
    )
    .option(
      '--config-poll <seconds>',
      'fallback check for configuration changed through other edges (env POSTERN_CONFIG_POLL; default 5)',
      env.POSTERN_CONFIG_POLL,
    );
}

/**
 * Milliseconds from a seconds flag, or undefined when it was not given. Without `range` the
 * value must be above 0; with it, from `range.min` to `range.max`.
 */
export function secondsFlag(
  value: string | undefined,
  flag: string,
  range?: { readonly min: number; readonly max: number },
): number | undefined {
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  const ok = range
    ? seconds >= range.min && seconds <= range.max
    : Number.isFinite(seconds) && seconds > 0;
  if (!ok) {
    const expected = range
      ? `a number of seconds from ${range.min} to ${range.max}`
      : 'a positive number of seconds';
    throw CoreErrors.invalidArgument(flag, `"${value}" is not ${expected}`);
  }
  return Math.round(seconds * 1000);
}

/** Keepalive options for an edge or a connector; absent flags leave the defaults. */
export function keepaliveOptions(o: HaFlags): {
  keepAliveIntervalMs?: number;
  keepAliveTimeoutMs?: number;
} {
  const interval = secondsFlag(o.keepaliveInterval, '--keepalive-interval');
  const timeout = secondsFlag(o.keepaliveTimeout, '--keepalive-timeout');
  return {
    ...(interval === undefined ? {} : { keepAliveIntervalMs: interval }),
    ...(timeout === undefined ? {} : { keepAliveTimeoutMs: timeout }),
  };
}

/** The edge's HA options from its flags. */
export function edgeHaOptions(o: HaFlags): {
  leaseTtlMs: number | undefined;
  configPollMs: number | undefined;
  keepAliveIntervalMs?: number;
  keepAliveTimeoutMs?: number;
} {
  return {
    leaseTtlMs: secondsFlag(o.leaseTtl, '--lease-ttl'),
    configPollMs: secondsFlag(o.configPoll, '--config-poll'),
    ...keepaliveOptions(o),
  };
}

/**
 * `--edge`: one address (a load balancer, dialed until every edge is held) or a comma list of
 * edges (one tunnel to each).
 */
export function edgeAddressOptions(value: string | undefined): {
  edgeAddress?: string;
  edgeAddresses?: string[];
} {
  const list = (value ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (list.length === 0) return {};
  return list.length === 1 ? { edgeAddress: list[0]! } : { edgeAddresses: list };
}
