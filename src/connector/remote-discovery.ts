import type { Logger } from 'pino';
import { definedProps, systemClock, type Clock } from '../core/index.js';
import {
  MAX_DISCOVERED_ADDRESSES,
  MAX_DISCOVERY_ERROR,
  type DiscoveryWork,
} from '../protocol/index.js';
import {
  DnsDiscovery,
  dnsDiscoverySpecFromConfig,
  NO_WEIGHTS,
  type NodeWeights,
} from '../traffic/index.js';

/** One discovery report for the edge: the node set, or why resolving failed. */
export interface DiscoveryReport {
  readonly pool: string;
  readonly addresses: readonly string[];
  /** Weight by address, when discovery gave weights (SRV); absent = every node weighs 1. */
  readonly weights?: Readonly<Record<string, number>>;
  readonly error?: string;
}

/** How a connector runs the DNS discovery the edge asks for. */
export interface RemoteDiscoveryOptions {
  readonly report: (report: DiscoveryReport) => void;
  /** Called when the set of discovered addresses (of any pool) changed. */
  readonly onAddressesChanged: () => void;
  readonly logger: Logger;
  /** Default: the system clock. */
  readonly clock?: Clock | undefined;
  /** Per-query DNS timeout; default 2000 ms. */
  readonly queryTimeoutMs?: number | undefined;
}

interface Running {
  readonly pool: string;
  discovery: DnsDiscovery | undefined;
  /** The last good node set; undefined before the first answer. */
  addresses: readonly string[] | undefined;
  /** The weights of that set (SRV); empty = every node weighs 1. */
  weights: NodeWeights;
  /** What was last reported (a node list or an error), to send only changes. */
  lastReport: string | undefined;
}

/**
 * DNS discovery for the `via` pools of a connector's group, resolved in the connector's own
 * network (with the spec's resolver, else the system's). Reports the node set to the edge when
 * it changes and failures when they start or change; the last good set stays in force on
 * failure, as on the edge. Reconciled with each `config`: unchanged specs keep running.
 */
export class RemoteDiscovery {
  readonly #o: RemoteDiscoveryOptions;
  readonly #running = new Map<string, Running>();

  constructor(options: RemoteDiscoveryOptions) {
    this.#o = options;
  }

  /** Every address currently discovered, over all pools. */
  addresses(): string[] {
    const all = new Set<string>();
    for (const running of this.#running.values())
      for (const a of running.addresses ?? []) all.add(a);
    return [...all];
  }

  /** Runs exactly this discovery from now on; the current sets of unchanged pools are sent again. */
  apply(work: readonly DiscoveryWork[]): void {
    const wanted = new Map(work.map((item) => [`${item.pool}\n${JSON.stringify(item.dns)}`, item]));
    let dropped = false;
    for (const [key, running] of this.#running) {
      if (wanted.has(key)) continue;
      running.discovery?.stop();
      this.#running.delete(key);
      dropped ||= (running.addresses?.length ?? 0) > 0;
    }
    for (const [key, item] of wanted) {
      const running = this.#running.get(key);
      if (running === undefined) this.#start(key, item);
      // The edge may have rebuilt the pool (and lost its set) without the spec changing.
      else if (running.addresses !== undefined) this.#o.report(nodesReport(running));
    }
    if (dropped) this.#o.onAddressesChanged();
  }

  /** Stops every resolution. */
  stop(): void {
    for (const running of this.#running.values()) running.discovery?.stop();
    this.#running.clear();
  }

  #start(key: string, item: DiscoveryWork): void {
    const running: Running = {
      pool: item.pool,
      discovery: undefined,
      addresses: undefined,
      weights: NO_WEIGHTS,
      lastReport: undefined,
    };
    this.#running.set(key, running);
    try {
      running.discovery = new DnsDiscovery(dnsDiscoverySpecFromConfig(item.pool, item.dns), {
        clock: this.#o.clock ?? systemClock,
        ...definedProps({ queryTimeoutMs: this.#o.queryTimeoutMs }),
        onNodes: (nodes, weights) => this.#onNodes(running, nodes, weights),
        onError: (error) => this.#onError(running, error.message),
      });
    } catch (err) {
      // A spec the connector cannot run is reported, so the edge's log says why nothing comes.
      this.#onError(running, (err as Error).message);
      return;
    }
    running.discovery.start();
  }

  #onNodes(running: Running, nodes: readonly string[], weights: NodeWeights): void {
    const addresses = nodes.slice(0, MAX_DISCOVERED_ADDRESSES);
    const changed = addresses.join('\n') !== (running.addresses ?? []).join('\n');
    running.addresses = addresses;
    running.weights = weights;
    const report = nodesReport(running);
    const text = JSON.stringify(report);
    if (text !== running.lastReport) {
      running.lastReport = text;
      this.#o.report(report);
    }
    if (changed) this.#o.onAddressesChanged();
  }

  #onError(running: Running, message: string): void {
    const error = message.slice(0, MAX_DISCOVERY_ERROR);
    this.#o.logger.warn(
      { pool: running.pool, err: error },
      'DNS discovery failed on the connector',
    );
    const report = { pool: running.pool, addresses: running.addresses ?? [], error };
    const text = JSON.stringify(report);
    if (text === running.lastReport) return;
    running.lastReport = text;
    this.#o.report(report);
  }
}

/** The node set as `discovered` carries it: weights only when some node has one (SRV). */
function nodesReport(running: Running): DiscoveryReport {
  const addresses = running.addresses ?? [];
  const weights = addresses.flatMap((a) => {
    const weight = running.weights.get(a);
    return weight === undefined ? [] : [[a, weight] as const];
  });
  const report = { pool: running.pool, addresses };
  return weights.length === 0 ? report : { ...report, weights: Object.fromEntries(weights) };
}
