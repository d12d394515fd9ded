import { hostname as osHostname, networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { ConnectorMetrics } from './connector-metrics.js';
import type { ConnectorOptions } from './connector-options.js';
import { isRevocation } from './connector-refusals.js';
import type { SessionCounters } from './data-stream-handler.js';
import { EdgeTunnel } from './edge-tunnel.js';
import type { IdentityRecovery } from './identity-recovery.js';
import type { ConnectorIdentityFiles } from './identity-store.js';

/** What opening tunnels needs from the connector. */
export interface TunnelOpenerOptions {
  readonly options: ConnectorOptions;
  readonly logger: Logger;
  readonly counters: SessionCounters;
  readonly metrics: ConnectorMetrics;
  readonly recovery: IdentityRecovery;
  /** Aborted when the connector stops or halts: no recovery after that. */
  readonly signal: AbortSignal;
  /** The identity in use now. */
  readonly identity: () => ConnectorIdentityFiles;
  /** Takes a renewed or new identity (already stored) that recovered a refused tunnel. */
  readonly adopt: (identity: ConnectorIdentityFiles) => void;
  /** Told about every failed attempt (before it is thrown). */
  readonly onError: (err: Error) => void;
  /** Stops the connector for good with `err`. */
  readonly halt: (err: Error) => void;
}

/**
 * Opens one tunnel to an edge with the current identity. Enrolls again with the provisioning
 * key when the certificate expired offline or the edge removed this ephemeral connector (then
 * tries once more); halts on a refusal no retry can cure.
 */
export class TunnelOpener {
  readonly #o: TunnelOpenerOptions;

  constructor(options: TunnelOpenerOptions) {
    this.#o = options;
  }

  /** Opens a tunnel to `address`, telling the edge which edges are held already. */
  async open(address: string, heldEdges: readonly string[], retried = false): Promise<EdgeTunnel> {
    const identity = this.#o.identity();
    let tunnel: EdgeTunnel;
    try {
      tunnel = await EdgeTunnel.open(identity, {
        ...this.#tunnelOptions(identity),
        address,
        heldEdges,
      });
    } catch (err) {
      return this.#recover(identity, err as Error, { address, heldEdges, retried });
    }
    tunnel.on('refused', (err) => {
      this.#o.logger.error({ code: err.code, err: err.message }, 'the edge refused this connector');
      if (isRevocation(err)) this.#o.halt(err);
    });
    return tunnel;
  }

  /** After a failed attempt: tries again with a recovered identity, or reports and throws. */
  async #recover(
    identity: ConnectorIdentityFiles,
    err: Error,
    attempt: { address: string; heldEdges: readonly string[]; retried: boolean },
  ): Promise<EdgeTunnel> {
    const { address, heldEdges, retried } = attempt;
    const aborted = (): boolean => this.#o.signal.aborted;
    // Another attempt recovered meanwhile: try what it stored, and never recover twice.
    const stale = this.#o.identity() !== identity;
    if (stale && !retried && !aborted()) return this.open(address, heldEdges, true);
    const next =
      aborted() || stale
        ? ({ action: 'report' } as const)
        : await this.#o.recovery.recover(identity, err, address);
    if (next.action === 'retry' && !aborted()) {
      this.#o.adopt(next.identity);
      if (!retried) return this.open(address, heldEdges, true);
    }
    this.#o.onError(err);
    if (next.action === 'halt') this.#o.halt(next.error);
    throw err;
  }

  #tunnelOptions(identity: ConnectorIdentityFiles) {
    const o = this.#o.options;
    return {
      address: o.edgeAddress ?? identity.edgeAddress,
      version: o.version,
      hostname: osHostname(),
      privateIp: firstPrivateIp(),
      identifiers: {
        host: [],
        ipv4: [],
        ipv6: [],
        cidr: [],
        defaultRoute: false,
        ...o.identifiers,
      },
      logger: this.#o.logger,
      counters: this.#o.counters,
      keepAliveIntervalMs: o.keepAliveIntervalMs,
      keepAliveTimeoutMs: o.keepAliveTimeoutMs,
      clock: o.clock,
      healthHeartbeatMs: o.healthHeartbeatMs,
      metrics: this.#o.metrics,
    };
  }
}

function firstPrivateIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return '';
}
