import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionCounters } from './data-stream-handler.js';
import type { EdgeTunnel } from './edge-tunnel.js';

/** After the drain, how long a tunnel may take to close before the sessions left are cut. */
const CLOSE_AFTER_DRAIN_MS = 1000;
/** How often the drain looks whether the sessions in flight have finished. */
const DRAIN_POLL_MS = 50;

/**
 * The stop sequence of a connector's tunnels: tells each edge to send no new sessions, lets
 * the sessions in flight (`counters.active`) finish within `drainTimeoutMs` (default 30 s),
 * then closes every tunnel, cutting what is left. Resolves true when at least one edge was
 * told (an ephemeral connector's drain tells the edge to remove it once the tunnel closes).
 */
export async function drainAndClose(
  tunnels: readonly EdgeTunnel[],
  counters: SessionCounters,
  options: { readonly drainTimeoutMs?: number | undefined } = {},
): Promise<boolean> {
  const told = tunnels.filter((tunnel) => tunnel.drain()).length > 0;
  if (tunnels.length === 0) return told;
  const deadline = Date.now() + (options.drainTimeoutMs ?? 30_000);
  while (counters.active > 0 && Date.now() < deadline) await sleep(DRAIN_POLL_MS);
  // The drain timeout bounds the whole stop: sessions still open now are cut, after a
  // moment for the closing handshake of those that just finished.
  const timeoutMs = Math.max(CLOSE_AFTER_DRAIN_MS, deadline - Date.now());
  await Promise.all(tunnels.map((t) => t.close({ timeoutMs }).catch(() => undefined)));
  return told;
}
