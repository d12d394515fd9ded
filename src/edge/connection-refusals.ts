import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/index.js';
import type { ConnectionRefusal } from '../traffic/index.js';
import type { EdgeMetrics } from './edge-metrics.js';

/** How often each virtual server may log that it reached its cap. */
export const REFUSAL_WARNING_INTERVAL_MS = 60_000;

/**
 * Counts each connection a virtual server refused at its `max_connections`, and warns at most
 * once per `REFUSAL_WARNING_INTERVAL_MS` per virtual server: a flood (the case the cap exists
 * for) must not become a flood of log lines. Each warning says how many were refused since the
 * last one.
 */
export function connectionRefusals(
  log: Pick<Logger, 'warn'>,
  metrics: Pick<EdgeMetrics, 'connectionsRefused'>,
  options: { clock?: Clock } = {},
): (refusal: ConnectionRefusal) => void {
  const clock = options.clock ?? systemClock;
  // One entry per virtual server that ever refused; bounded by the configuration.
  const state = new Map<string, { warnedAt: number; unreported: number }>();
  return (refusal) => {
    const name = refusal.virtualServer;
    metrics.connectionsRefused.inc({ virtual_server: name });
    const now = clock.monotonic();
    let s = state.get(name);
    if (s && now - s.warnedAt < REFUSAL_WARNING_INTERVAL_MS) {
      s.unreported++;
      return;
    }
    const refused = (s?.unreported ?? 0) + 1;
    const count = s === undefined ? 'this is the first' : `${refused} since the last warning`;
    s = { warnedAt: now, unreported: 0 };
    state.set(name, s);
    log.warn(
      { virtual_server: name, max_connections: refusal.limit, refused, client: refusal.client },
      `virtual server ${name} reached max_connections (${refusal.limit}): new client connections ` +
        `are closed unserved (${count}). If this is legitimate load, ` +
        `raise virtual_servers[].max_connections (0 = unlimited) and reload.`,
    );
  };
}
