import type { Configuration } from '../config/index.js';
import { definedProps } from '../core/index.js';
import type {
  ApplicationHealthWork,
  DiscoveryWork,
  MonitorWork,
  TargetRule,
  WireMonitor,
} from '../protocol/index.js';
import { monitorRunsOnEdge, publicPoolTls, splitHostPort, type Pool } from '../traffic/index.js';
import { applicationHealthWork } from './application-health-work.js';
import { applicationTargets } from './application-targets.js';

/** What the edge tells a group's connectors in `config`. */
export interface ConnectorConfig {
  readonly generation: number;
  /** Destinations they may dial: the nodes of the group's pools and the group's applications. */
  readonly targets: TargetRule[];
  /** Health checks they run: every monitor of a `via` pool against each of its checked nodes. */
  readonly monitors: MonitorWork[];
  /** DNS discovery they do for the group's `via` pools. */
  readonly discovery: DiscoveryWork[];
  /** Applications whose health they check and report (`health_reporting` other than none). */
  readonly applications: ApplicationHealthWork[];
}

/**
 * Computes a group's `config` from the generation in force. Checked nodes are those the edge
 * would check itself: configured and discovered, not disabled, not on their way out.
 */
export function connectorConfigFor(
  group: string,
  generation: { number: number; config: Configuration; pools: ReadonlyMap<string, Pool> },
): ConnectorConfig {
  const out: ConnectorConfig = {
    generation: generation.number,
    targets: [],
    monitors: [],
    discovery: [],
    applications: applicationHealthWork(group, generation.config),
  };
  const seen = new Set<string>();
  const monitors = new Map(generation.config.monitors.map((m) => [m.name, wireMonitor(m)]));
  for (const spec of generation.config.pools) {
    const pool = generation.pools.get(spec.name);
    if (spec.via !== group || pool === undefined) continue;
    if (spec.discovery) out.discovery.push({ pool: spec.name, dns: { ...spec.discovery.dns } });
    const poolMonitors = spec.monitors
      .flatMap((name) => monitors.get(name) ?? [])
      .filter((m) => !monitorRunsOnEdge(m, pool.upstreamTls));
    // The pool's tls rides on its first item only; the connector applies it to all of them.
    let tls =
      pool.upstreamTls && poolMonitors.some((m) => m.type === 'https')
        ? publicPoolTls(pool.upstreamTls)
        : undefined;
    for (const node of pool.status().nodes) {
      const target = splitHostPort(node.address);
      if (target && !seen.has(node.address)) {
        seen.add(node.address);
        out.targets.push({ host: target.host, ports: [target.port, target.port] });
      }
      if (node.removed || node.state === 'disabled') continue;
      for (const monitor of poolMonitors) {
        out.monitors.push({
          pool: spec.name,
          address: node.address,
          monitor,
          ...(tls === undefined ? {} : { tls }),
        });
        tls = undefined;
      }
    }
  }
  out.targets.push(...applicationTargets(group, generation.config));
  return out;
}

/** A monitor as the connector needs it: the document form without descriptive fields. */
function wireMonitor(m: Configuration['monitors'][number]): WireMonitor {
  return {
    name: m.name,
    type: m.type,
    path: m.path,
    expect_status: [...m.expect_status],
    delay_ms: m.delay_ms,
    timeout_ms: m.timeout_ms,
    failures: m.failures,
    successes: m.successes,
    ...definedProps({
      host_header: m.host_header,
      body_match: m.body_match,
      verify_tls: m.verify_tls,
    }),
  };
}
