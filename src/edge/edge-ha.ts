import type { Logger } from 'pino';
import type { Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import type { EdgeRuntime } from './edge-runtime.js';
import type { TunnelListener } from './tunnel-listener.js';
import { EdgeMembership } from './edge-membership.js';
import { ConfigWatcher } from './config-watcher.js';

/** The edge options HA membership reads (see EdgeOptions for each field). */
export interface HaOptions {
  readonly leaseTtlMs?: number | undefined;
  readonly configPollMs?: number | undefined;
}

/** This edge's place in the HA set. */
export interface HaSet {
  readonly membership: EdgeMembership;
  /** Follows configuration changed through other edges and announces this edge's changes. */
  readonly watcher: ConfigWatcher;
  /** Gives up the lease and stops following other edges' changes. */
  leave(): Promise<void>;
}

/**
 * Takes this edge's lease in the HA set (pushing set changes to connectors) and follows
 * configuration changed through other edges. On failure what it started is stopped.
 */
export async function joinHaSet(
  store: Store,
  options: HaOptions,
  parts: {
    serverId: string;
    advertiseAddress: string;
    runtime: EdgeRuntime;
    listener: TunnelListener;
    log: Logger;
    clock: Clock;
  },
): Promise<HaSet> {
  const { serverId, runtime, listener, log, clock } = parts;
  const membership = new EdgeMembership(store, {
    serverId,
    address: parts.advertiseAddress,
    leaseTtlMs: options.leaseTtlMs,
    clock,
    logger: log,
  });
  membership.on('change', (view) => listener.pushEdges(view));
  const watcher = new ConfigWatcher(store, {
    serverId,
    reload: async () => {
      await runtime.reload();
      listener.pushConfig();
    },
    disconnect: (id) => listener.revoke(id),
    pollMs: options.configPollMs,
    clock,
    logger: log,
  });
  const leave = async (): Promise<void> => {
    await watcher.stop();
    await membership.stop();
  };
  try {
    await membership.start();
    await watcher.start();
  } catch (err) {
    await leave();
    throw err;
  }
  return { membership, watcher, leave };
}
