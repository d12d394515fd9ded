import type { Running } from './edge-parts.js';

/**
 * Shuts a running edge down in drain order, which is not the reverse of the start: connectors
 * are sent to the other edges before sessions drain, and logs flush after the tunnels closed.
 */
export async function closeInDrainOrder(
  running: Running,
  o: { readonly graceMs: number; readonly drainMs: number },
): Promise<void> {
  const { base, tunnels, frontends } = running;
  running.api.setReady(false);
  if (o.graceMs > 0) {
    base.log.info({ graceMs: o.graceMs }, 'not ready; still serving during the shutdown grace');
    await new Promise<void>((resolve) => base.clock.setTimeout(resolve, o.graceMs));
  }
  await running.autoDelete.stop();
  await running.drains.stop();
  await base.importer?.stop();
  // Leave the HA set and send go-away first, so connectors move before sessions drain.
  await running.tunnelRecords.stop();
  await running.ha.leave();
  void tunnels.listener.goAway();
  // The frontends drain side by side, each bounded by the drain timeout.
  await Promise.all([
    frontends.konnectivity?.close(o.drainMs),
    frontends.access?.proxy.close({ drainTimeoutMs: o.drainMs }),
    tunnels.runtime.close(o.drainMs),
  ]);
  running.identity.close();
  await tunnels.listener.close(2000);
  // Session ends recorded while the frontends closed are written before the store closes.
  await running.activityHistory.close();
  // After the tunnels closed, so their tunnel_down records are delivered too.
  await running.observability.close(2000);
  await running.api.close();
  await base.store.close();
}
