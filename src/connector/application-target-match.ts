import net from 'node:net';
import type { ApplicationHealthWork } from '../protocol/index.js';

/** How well a destination matches an application; higher is more specific, undefined is none. */
export function matchScore(
  app: ApplicationHealthWork,
  host: string,
  port: number,
): number | undefined {
  if (!app.ports.some(([from, to]) => port >= from && port <= to)) return undefined;
  const name = host.toLowerCase().replace(/\.$/, '');
  const family = net.isIP(name);
  if (family === 0) {
    let best: number | undefined;
    for (const domain of app.domains) {
      const d = domain.toLowerCase();
      // An exact name beats every wildcard; a longer suffix beats a shorter one.
      if (d === name) return 100_000;
      if (d.startsWith('*.') && name.endsWith(d.slice(1))) best = Math.max(best ?? 0, d.length);
    }
    return best;
  }
  let best: number | undefined;
  for (const cidr of app.cidrs) {
    const prefix = cidrPrefix(cidr, name, family);
    if (prefix !== undefined) best = Math.max(best ?? 0, prefix);
  }
  return best;
}

/** The application a destination belongs to: the most specific match, the first among equals. */
export function matchApplication(
  apps: Iterable<ApplicationHealthWork>,
  host: string,
  port: number,
): ApplicationHealthWork | undefined {
  let best: { app: ApplicationHealthWork; score: number } | undefined;
  for (const app of apps) {
    const score = matchScore(app, host, port);
    if (score !== undefined && (best === undefined || score > best.score)) best = { app, score };
  }
  return best?.app;
}

/** Whether `destination` is one of the application's exact names (checked without an access). */
export function isExactDomain(app: ApplicationHealthWork, destination: string): boolean {
  return app.domains.some((d) => !d.startsWith('*.') && d.toLowerCase() === destination);
}

function cidrPrefix(cidr: string, address: string, family: number): number | undefined {
  const [base, bits] = cidr.split('/');
  const baseFamily = net.isIP(base ?? '');
  if (base === undefined || baseFamily !== family) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
  const list = new net.BlockList();
  try {
    list.addSubnet(base, prefix, type);
  } catch {
    return undefined;
  }
  return list.check(address, type) ? prefix : undefined;
}
