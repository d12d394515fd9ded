import type { Logger } from 'pino';
import type { Clock } from '../core/index.js';
import type { Identifiers, Message, TargetRule } from '../protocol/index.js';
import { splitHostPort } from '../traffic/index.js';
import { ApplicationHealthMonitor, type ApplicationHealthReport } from './application-health.js';
import type { ConnectorMetrics } from './connector-metrics.js';
import { identifierGrant, type IdentifierGrant } from './identifier-grant.js';
import { PolicyDialer } from './policy-dialer.js';
import { RemoteDiscovery, type DiscoveryReport } from './remote-discovery.js';
import { RemoteMonitors, type HealthReport } from './remote-monitors.js';
import { TargetPolicy } from './target-policy.js';

/** How a connector does its group's work for one tunnel. */
export interface GroupWorkOptions {
  readonly logger: Logger;
  readonly onHealth: (report: HealthReport) => void;
  readonly onDiscovered: (report: DiscoveryReport) => void;
  /** Receives application health worth sending (`app_health`); default: dropped. */
  readonly onApplicationHealth?: ((report: ApplicationHealthReport) => void) | undefined;
  readonly clock?: Clock | undefined;
  /** Longest silence about one health check; default 30 s. */
  readonly healthHeartbeatMs?: number | undefined;
  /** Per-query DNS timeout of discovery; default 2000 ms. */
  readonly dnsQueryTimeoutMs?: number | undefined;
  /** The connector's advertised identifiers: destinations they cover may be dialed too. */
  readonly identifiers?: Identifiers | undefined;
  /** Counts health check results; default none. */
  readonly metrics?: ConnectorMetrics | undefined;
}

/**
 * What the edge's `config` asks of a connector: the destinations it may dial, the health checks
 * it runs and the DNS discovery it does for the group's `via` pools. Discovered nodes are
 * allowed destinations at once, before the edge has learned them and sent them back in
 * `targets`, so the edge may dial them as soon as it hears of them.
 */
export class GroupWork {
  readonly #monitors: RemoteMonitors;
  readonly #discovery: RemoteDiscovery;
  #targets: readonly TargetRule[] = [];
  #policy: TargetPolicy;
  readonly #grant: IdentifierGrant;
  readonly #appHealth: ApplicationHealthMonitor;

  constructor(options: GroupWorkOptions) {
    this.#grant = options.identifiers
      ? identifierGrant(options.identifiers)
      : { rules: [], allowAll: false };
    this.#policy = new TargetPolicy(this.#grant.rules, { allowAll: this.#grant.allowAll });
    this.#monitors = new RemoteMonitors({
      dialer: new PolicyDialer(() => this.#policy),
      report: options.onHealth,
      logger: options.logger,
      clock: options.clock,
      heartbeatMs: options.healthHeartbeatMs,
      onCheck: (ok) => options.metrics?.remoteChecks.inc({ result: ok ? 'ok' : 'failed' }),
    });
    this.#discovery = new RemoteDiscovery({
      report: options.onDiscovered,
      onAddressesChanged: () => this.#rebuildPolicy(),
      logger: options.logger,
      clock: options.clock,
      queryTimeoutMs: options.dnsQueryTimeoutMs,
    });
    this.#appHealth = new ApplicationHealthMonitor({
      report: (report) => options.onApplicationHealth?.(report),
      clock: options.clock,
      logger: options.logger,
    });
  }

  /** Records a user's access to a destination (for On Access health reporting). */
  accessed(target: { host: string; port: number }): void {
    this.#appHealth.accessed(target);
  }

  /** The destinations this connector may dial now: the edge's targets plus discovered nodes. */
  get policy(): TargetPolicy {
    return this.#policy;
  }

  /** Node × monitor checks running. */
  get checks(): number {
    return this.#monitors.checks;
  }

  /** Applies a `config` from the edge: new targets, checks and discovery. */
  apply(config: Message<'config'>): void {
    this.#targets = config.targets;
    // Discovery first: its carried-over sets are part of the policy the checks dial with.
    this.#discovery.apply(config.discovery);
    this.#rebuildPolicy();
    this.#monitors.apply(config.monitors);
    // A message built in-process (not decoded, so without defaults) may leave it out.
    this.#appHealth.apply(Array.isArray(config.applications) ? config.applications : []);
  }

  /** Stops every check and resolution (the tunnel closed). */
  stop(): void {
    this.#monitors.stop();
    this.#discovery.stop();
    this.#appHealth.stop();
  }

  #rebuildPolicy(): void {
    const discovered: TargetRule[] = [];
    for (const address of this.#discovery.addresses()) {
      const target = splitHostPort(address);
      if (target) discovered.push({ host: target.host, ports: [target.port, target.port] });
    }
    this.#policy = new TargetPolicy([...this.#targets, ...discovered, ...this.#grant.rules], {
      allowAll: this.#grant.allowAll,
    });
  }
}
