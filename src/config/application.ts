import { z } from 'zod';
import { cidrSchema, descriptionSchema, hostPatternSchema, objectNameSchema } from './fields.js';
import { parsePortRange, portRangeSchema } from './port-range.js';

const ipv4 = z.ipv4();

/** A domain of an application: an exact name or `*.` and a suffix; addresses go under cidrs. */
const applicationDomainSchema = hostPatternSchema
  .refine((name) => !ipv4.safeParse(name).success, {
    error: 'is an IP address; list it under cidrs instead (e.g. "10.0.0.5/32")',
  })
  .meta({ description: 'An exact name (db.corp.internal) or a wildcard (*.corp.internal).' });

/** Most ports a `continuous` application may list (ranges count each port), as in ZPA. */
export const MAX_CONTINUOUS_HEALTH_PORTS = 10;

/** How a connector checks an application: a TCP connect to each port on each resolved address. */
const healthCheckSchema = z
  .strictObject({
    interval_ms: z
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .default(30_000)
      .meta({ description: 'Time between two checks of one destination.' }),
    timeout_ms: z
      .number()
      .int()
      .min(50)
      .max(60_000)
      .default(2000)
      .meta({ description: 'Bound on one TCP connect.' }),
  })
  .meta({ description: 'Settings of the health checks connectors run for the application.' });

/** A list with a cap whose entries must each appear once. */
function uniqueList<T extends z.ZodType>(item: T, max: number) {
  return z
    .array(item)
    .max(max)
    .refine((list) => new Set(list.map((v) => String(v).toLowerCase())).size === list.length, {
      error: 'lists an entry twice; list each once',
    });
}

/**
 * An application in the sense of ZPA's application segments: destinations (names, wildcard
 * domains, networks) and TCP ports that users reach through a connector of the named groups.
 */
export const applicationSchema = z
  .strictObject({
    name: objectNameSchema,
    description: descriptionSchema.optional(),
    domains: uniqueList(applicationDomainSchema, 1024)
      .default([])
      .meta({ description: 'Host names: exact, or "*." and a domain for every name below it.' }),
    cidrs: uniqueList(cidrSchema, 1024)
      .default([])
      .meta({ description: 'IPv4 or IPv6 networks whose addresses belong to the application.' }),
    ports: uniqueList(portRangeSchema, 256)
      .min(1, { error: 'must list at least one port or range, e.g. ["443", "8000-8100"]' })
      .meta({ description: 'TCP ports and inclusive ranges the application listens on.' }),
    connector_groups: uniqueList(objectNameSchema, 48)
      .min(1, { error: 'must name at least one connector group that can reach the application' })
      .meta({ description: 'Connector groups whose connectors dial the application.' }),
    enabled: z
      .boolean()
      .default(true)
      .meta({ description: 'A disabled application matches no destination.' }),
    health_reporting: z.enum(['none', 'on_access', 'continuous']).default('on_access').meta({
      description:
        'none: never checked; on_access: checked while used and 30 minutes after; continuous: always.',
    }),
    health_check: healthCheckSchema.optional(),
  })
  .superRefine((app, ctx) => {
    if (app.domains.length === 0 && app.cidrs.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['domains'],
        message: 'an application needs at least one entry in domains or cidrs',
      });
    }
    const ports = app.ports.reduce((n, p) => n + portCount(p), 0);
    if (app.health_reporting === 'continuous' && ports > MAX_CONTINUOUS_HEALTH_PORTS) {
      ctx.addIssue({
        code: 'custom',
        path: ['health_reporting'],
        message: `continuous checks every port; list at most ${MAX_CONTINUOUS_HEALTH_PORTS} ports (this lists ${ports}) or use on_access`,
      });
    }
  })
  .meta({ description: 'An application segment reached through connectors.' });

/** A validated application. */
export type Application = z.output<typeof applicationSchema>;

function portCount(text: string): number {
  const range = parsePortRange(text);
  return range === undefined ? 0 : range.to - range.from + 1;
}
