import { parsePortRange, type Configuration } from '../config/index.js';
import type { TargetRule } from '../protocol/index.js';

/**
 * The destinations a group's connectors may dial for the access proxy: every domain (exact or
 * `*.` wildcard) and CIDR of each enabled application served by the group, for each of its port
 * ranges. Nothing else: applications of other groups stay undialable from this group.
 */
export function applicationTargets(group: string, config: Configuration): TargetRule[] {
  const out: TargetRule[] = [];
  for (const app of config.applications ?? []) {
    if (!app.enabled || !app.connector_groups.includes(group)) continue;
    const ranges = app.ports.flatMap((p) => parsePortRange(p) ?? []);
    for (const range of ranges) {
      const ports: [number, number] = [range.from, range.to];
      for (const host of app.domains) out.push({ host: host.toLowerCase(), ports });
      for (const cidr of app.cidrs) out.push({ cidr, ports });
    }
  }
  return out;
}
