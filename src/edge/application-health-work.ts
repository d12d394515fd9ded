import { parsePortRange, type Configuration } from '../config/index.js';
import type { ApplicationHealthWork } from '../protocol/index.js';

/** Default time between two checks of one destination (`health_check.interval_ms`). */
export const DEFAULT_HEALTH_INTERVAL_MS = 30_000;
/** Default bound on one TCP connect of a check (`health_check.timeout_ms`). */
export const DEFAULT_HEALTH_TIMEOUT_MS = 2000;

/**
 * The applications whose health a group's connectors check: every enabled application served by
 * the group whose `health_reporting` is not `none`.
 */
export function applicationHealthWork(
  group: string,
  config: Configuration,
): ApplicationHealthWork[] {
  const out: ApplicationHealthWork[] = [];
  for (const app of config.applications ?? []) {
    if (!app.enabled || app.health_reporting === 'none') continue;
    if (!app.connector_groups.includes(group)) continue;
    out.push({
      name: app.name,
      mode: app.health_reporting,
      domains: app.domains.map((d) => d.toLowerCase()),
      cidrs: [...app.cidrs],
      ports: app.ports.flatMap((p) => {
        const range = parsePortRange(p);
        return range === undefined ? [] : [[range.from, range.to] as [number, number]];
      }),
      intervalMs: app.health_check?.interval_ms ?? DEFAULT_HEALTH_INTERVAL_MS,
      timeoutMs: app.health_check?.timeout_ms ?? DEFAULT_HEALTH_TIMEOUT_MS,
    });
  }
  return out;
}
