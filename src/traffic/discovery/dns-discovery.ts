import { Resolver } from 'node:dns/promises';
import {
  isPosternError,
  PosternError,
  systemClock,
  type Clock,
  type TimerHandle,
} from '../../core/index.js';
import { trafficErrors } from '../errors.js';
import type { DnsDiscoverySpec } from './dns-discovery-spec.js';
import type { NodeWeights } from './node-weights.js';
import { resolveNodes } from './resolve-nodes.js';

/** How to run DNS discovery. */
export interface DnsDiscoveryOptions {
  /** Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Receives the node set after every successful resolution (also when unchanged), with the
   * nodes' weights (SRV; empty for A/AAAA, whose nodes weigh 1).
   */
  readonly onNodes: (nodes: readonly string[], weights: NodeWeights) => void;
  /**
   * Receives failed resolutions (the last good set stays in force): the first of a run of
   * identical failures, each different one, and while the same failure repeats one summary
   * every 5 minutes saying how often it recurred, so a 1 s interval does not flood the log.
   */
  readonly onError?: (error: Error) => void;
  /** Receives SRV targets left out (`target: reason`) whenever that list changes to non-empty. */
  readonly onSkipped?: (skipped: readonly string[]) => void;
  /** Per-query timeout of the resolver; default 2000 ms, two tries. */
  readonly queryTimeoutMs?: number;
}

/** What discovery knows, for the admin API. */
export interface DiscoveryStatus {
  readonly name: string;
  readonly type: 'A' | 'AAAA' | 'SRV';
  /** Node count of the last successful answer; undefined before the first one. */
  readonly nodes: number | undefined;
  readonly lastSuccessAt: number | undefined;
  readonly lastError: string | undefined;
  readonly lastErrorAt: number | undefined;
  /** SRV targets the last successful answer left out (`target: reason`); absent when remote. */
  readonly skipped?: readonly string[];
  /** Epoch ms of the next query while running. */
  readonly nextRefreshAt: number | undefined;
}

/** Floor of the refresh interval: the plugin's workaround for zero TTLs. */
const MIN_REFRESH_MS = 1_000;
/** While the same failure repeats, it is reported again at most this often. */
export const REPEATED_FAILURE_REPORT_MS = 5 * 60_000;

/**
 * DNS service discovery with vTM's BuiltIn-DNS_Stateless semantics: resolve, hand the node set
 * over, and resolve again after max(min_interval_ms, lowest TTL, 1 s). A failed resolution
 * changes nothing (the last good set stays) and is retried after min_interval_ms (at least 1 s);
 * a successful empty answer is an empty set.
 */
export class DnsDiscovery {
  readonly spec: DnsDiscoverySpec;
  readonly #options: DnsDiscoveryOptions;
  readonly #clock: Clock;
  readonly #resolver: Resolver;
  #timer: TimerHandle | undefined;
  #running = false;
  #inFlight: Promise<void> | undefined;
  #status: {
    nodes: number | undefined;
    lastSuccessAt: number | undefined;
    lastError: string | undefined;
    lastErrorAt: number | undefined;
    skipped: readonly string[];
    nextRefreshAt: number | undefined;
  } = {
    nodes: undefined,
    lastSuccessAt: undefined,
    lastError: undefined,
    lastErrorAt: undefined,
    skipped: [],
    nextRefreshAt: undefined,
  };
  /** The failure last reported, and how often it recurred since without being reported. */
  #failure: { message: string; reportedAt: number; unreported: number } | undefined;

  /** Throws POSTERN_ERR_DISCOVERY_FAILED when `spec.resolver` is not an address. */
  constructor(spec: DnsDiscoverySpec, options: DnsDiscoveryOptions) {
    this.spec = spec;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#resolver = new Resolver({ timeout: options.queryTimeoutMs ?? 2_000, tries: 2 });
    if (spec.resolver !== undefined) {
      try {
        this.#resolver.setServers([spec.resolver]);
      } catch (cause) {
        throw trafficErrors.discoveryFailed(
          spec.name,
          spec.type,
          `resolver "${spec.resolver}" is not ip[:port]`,
          cause,
        );
      }
    }
  }

  /** Resolves now, then keeps resolving on schedule until stop(). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.refresh();
  }

  /** Stops resolving; a query in flight is cancelled and its answer ignored. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#status.nextRefreshAt = undefined;
    this.#resolver.cancel();
  }

  /** While running: resolves now (joining a resolution in flight) and reschedules the next one. */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#resolveOnce().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** A snapshot for the admin API. */
  status(): DiscoveryStatus {
    return { name: this.spec.name, type: this.spec.type, ...this.#status };
  }

  async #resolveOnce(): Promise<void> {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    let nextMs: number;
    try {
      const { nodes, weights, ttlMs, skipped } = await resolveNodes(this.#resolver, this.spec);
      if (!this.#running) return;
      const skippedBefore = this.#status.skipped;
      Object.assign(this.#status, {
        nodes: nodes.length,
        lastSuccessAt: this.#clock.now(),
        lastError: undefined,
        skipped,
      });
      this.#failure = undefined;
      nextMs = Math.max(this.spec.minIntervalMs, ttlMs ?? 0, MIN_REFRESH_MS);
      this.#options.onNodes(nodes, weights);
      if (skipped.length > 0 && skipped.join('\n') !== skippedBefore.join('\n')) {
        this.#options.onSkipped?.(skipped);
      }
    } catch (err) {
      if (!this.#running) return;
      const error = isPosternError(err)
        ? err
        : trafficErrors.discoveryFailed(this.spec.name, this.spec.type, String(err), err);
      Object.assign(this.#status, { lastError: error.message, lastErrorAt: this.#clock.now() });
      nextMs = Math.max(this.spec.minIntervalMs, MIN_REFRESH_MS);
      this.#reportFailure(error);
    }
    if (!this.#running) return;
    this.#status.nextRefreshAt = this.#clock.now() + nextMs;
    this.#timer = this.#clock.setTimeout(() => void this.refresh(), nextMs);
  }

  /** Passes a failure on unless it repeats the last one reported less than 5 min ago. */
  #reportFailure(error: PosternError): void {
    const now = this.#clock.now();
    const last = this.#failure;
    if (last === undefined || last.message !== error.message) {
      this.#failure = { message: error.message, reportedAt: now, unreported: 0 };
      this.#options.onError?.(error);
      return;
    }
    last.unreported++;
    if (now - last.reportedAt < REPEATED_FAILURE_REPORT_MS) return;
    const minutes = Math.round((now - last.reportedAt) / 60_000);
    const summary = new PosternError(
      error.code,
      `${error.message} (failed the same way ${last.unreported} times in the last ${minutes} min)`,
      { cause: error.cause },
    );
    this.#failure = { message: error.message, reportedAt: now, unreported: 0 };
    this.#options.onError?.(summary);
  }
}
