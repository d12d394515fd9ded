import { z } from 'zod';

const state = z
  .enum(['up', 'down', 'unhealthy', 'unknown'])
  .meta({ description: 'up, down, unhealthy (some destinations or ports down) or unknown.' });
const time = z.string().nullable().meta({ description: 'ISO 8601; null before the first check.' });

const portHealth = z.object({
  port: z.number().int(),
  state,
  up: z.array(z.string()).meta({ description: 'Resolved addresses that completed a handshake.' }),
  down: z.array(z.string()).meta({ description: 'Resolved addresses that did not.' }),
  detail: z.string().optional(),
});

const connectorHealth = z.object({
  connector: z.string(),
  group: z.string(),
  state,
  last_check_at: time,
  destinations: z.array(
    z.object({ destination: z.string(), state, last_check_at: time, ports: z.array(portHealth) }),
  ),
});

/**
 * The `health` of an application in `GET /api/v1/applications[/:name]`: the state on this edge
 * from its connectors' reports, per destination and per connector.
 */
export const applicationHealthViewSchema = z
  .object({
    state,
    reporting: z.enum(['none', 'on_access', 'continuous']),
    last_check_at: time,
    destinations: z.array(z.object({ destination: z.string(), state })),
    connectors: z.array(connectorHealth),
  })
  .meta({ description: 'Application health as reported by connectors (read-only).' });

/** An application's health as the admin API shows it. */
export type ApplicationHealthView = z.output<typeof applicationHealthViewSchema>;

/** Body of `POST /api/v1/discovered-applications/promote`. */
export const promoteDiscoveredSchema = z
  .strictObject({
    name: z.string().min(1).max(253).meta({ description: 'The discovered name (host).' }),
    application_name: z.string().min(1).max(63).meta({ description: 'The new application.' }),
  })
  .meta({ description: 'Makes a discovered destination a defined application.' });
