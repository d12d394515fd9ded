import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { documentSchema, type Configuration } from '../config/index.js';
import { makeMessage, type DestinationHealth, type HealthState } from '../protocol/index.js';
import { AccessDiscoveries, learnedFromAccess } from './access-discoveries.js';
import { ApplicationHealthRegistry } from './application-health-registry.js';
import { applicationHealthWork } from './application-health-work.js';

const parseConfiguration = (value: unknown): Configuration => documentSchema.parse(value);

function config(): Configuration {
  return parseConfiguration({
    version: 1,
    connector_groups: [{ name: 'g1' }, { name: 'g2' }, { name: 'g3' }],
    applications: [
      {
        name: 'db',
        domains: ['*.corp.internal', 'db.corp.internal'],
        ports: ['5432'],
        connector_groups: ['g1', 'g2'],
      },
      {
        name: 'quiet',
        cidrs: ['10.0.0.0/8'],
        ports: ['22'],
        connector_groups: ['g1'],
        health_reporting: 'none',
      },
      {
        name: 'always',
        domains: ['api.corp.internal'],
        ports: ['443', '8443'],
        connector_groups: ['g3'],
        health_reporting: 'continuous',
        health_check: { interval_ms: 500 },
      },
    ],
  });
}

function destination(name: string, state: HealthState, at = 1000): DestinationHealth {
  return { destination: name, state, ports: [], checkedAt: at };
}

function report(application: string, state: HealthState, destinations: DestinationHealth[]) {
  return makeMessage({ type: 'app_health', application, state, destinations });
}

describe('application health on the edge', () => {
  it('aggregates connectors per destination and per application', () => {
    const reg = new ApplicationHealthRegistry();
    const cfg = config();
    const db = cfg.applications?.find((a) => a.name === 'db');
    assert.ok(db);
    assert.equal(reg.view(db).state, 'unknown', 'unknown before any report');
    reg.apply(
      { connectorId: 'c1', group: 'g1' },
      report('db', 'up', [destination('a.corp.internal', 'up', 5000)]),
      cfg,
    );
    reg.apply(
      { connectorId: 'c2', group: 'g2' },
      report('db', 'up', [
        destination('a.corp.internal', 'up'),
        destination('b.corp.internal', 'up'),
      ]),
      cfg,
    );
    let view = reg.view(db);
    assert.equal(view.state, 'up');
    assert.equal(view.reporting, 'on_access');
    assert.equal(view.last_check_at, new Date(5000).toISOString());
    assert.deepEqual(
      view.connectors.map((c) => [c.connector, c.group, c.state]),
      [
        ['c1', 'g1', 'up'],
        ['c2', 'g2', 'up'],
      ],
    );
    reg.apply(
      { connectorId: 'c2', group: 'g2' },
      report('db', 'down', [
        destination('a.corp.internal', 'down'),
        destination('b.corp.internal', 'down'),
      ]),
      cfg,
    );
    view = reg.view(db);
    assert.deepEqual(view.destinations, [
      { destination: 'a.corp.internal', state: 'unhealthy' },
      { destination: 'b.corp.internal', state: 'down' },
    ]);
    assert.equal(view.state, 'unhealthy');
    reg.disconnected('c1');
    assert.equal(reg.view(db).state, 'down', 'a gone connector no longer counts');
  });

  it('refuses reports from a group that does not serve the application', () => {
    const reg = new ApplicationHealthRegistry();
    const cfg = config();
    const ok = reg.apply(
      { connectorId: 'c3', group: 'g3' },
      report('db', 'up', [destination('a.corp.internal', 'up')]),
      cfg,
    );
    assert.equal(ok, false);
    assert.equal(
      reg.apply({ connectorId: 'c3', group: 'g3' }, report('nope', 'up', []), cfg),
      false,
    );
    const db = cfg.applications?.find((a) => a.name === 'db');
    assert.ok(db);
    assert.equal(reg.view(db).state, 'unknown');
  });

  it('shows none applications as unknown and sends them to no connector', () => {
    const reg = new ApplicationHealthRegistry();
    const cfg = config();
    const quiet = cfg.applications?.find((a) => a.name === 'quiet');
    assert.ok(quiet);
    reg.apply(
      { connectorId: 'c1', group: 'g1' },
      report('quiet', 'up', [destination('10.0.0.1', 'up')]),
      cfg,
    );
    assert.deepEqual(reg.view(quiet), {
      state: 'unknown',
      reporting: 'none',
      last_check_at: null,
      destinations: [],
      connectors: [],
    });
    assert.deepEqual(
      applicationHealthWork('g1', cfg).map((w) => w.name),
      ['db'],
    );
    const [always] = applicationHealthWork('g3', cfg);
    assert.deepEqual(always?.ports, [
      [443, 443],
      [8443, 8443],
    ]);
    assert.equal(always?.mode, 'continuous');
    assert.equal(always?.intervalMs, 500);
  });

  it('exports one gauge series per application and state', async () => {
    const reg = new ApplicationHealthRegistry();
    const cfg = config();
    const registry = new Registry();
    reg.registerMetric(registry, () => cfg);
    reg.apply(
      { connectorId: 'c1', group: 'g1' },
      report('db', 'down', [destination('x.corp.internal', 'down')]),
      cfg,
    );
    const text = await registry.metrics();
    assert.match(text, /postern_edge_application_health\{application="db",state="down"\} 1/);
    assert.match(text, /postern_edge_application_health\{application="db",state="up"\} 0/);
    assert.match(text, /postern_edge_application_health\{application="always",state="unknown"\} 1/);
  });

  it('refuses continuous health for more than 10 ports', () => {
    assert.throws(
      () =>
        parseConfiguration({
          version: 1,
          connector_groups: [{ name: 'g1' }],
          applications: [
            {
              name: 'wide',
              cidrs: ['10.0.0.0/8'],
              ports: ['8000-8100'],
              connector_groups: ['g1'],
              health_reporting: 'continuous',
            },
          ],
        }),
      /at most 10 ports/,
    );
  });
});

describe('application learning from accesses', () => {
  const app = { name: 'corp', domains: ['*.corp.internal', 'db.corp.internal'] };
  const event = (host: string) => ({
    application: app,
    host,
    port: 5432,
    connectorId: 'c1',
    resolvedAddress: '10.0.0.9:5432',
  });

  it('learns names reached under a wildcard, not exact names or addresses', () => {
    assert.equal(learnedFromAccess(event('Web.Corp.Internal'), 'g1')?.name, 'web.corp.internal');
    assert.equal(learnedFromAccess(event('db.corp.internal'), 'g1'), undefined);
    assert.equal(learnedFromAccess(event('10.0.0.9'), 'g1'), undefined);
    assert.equal(learnedFromAccess(event('web.corp.internal'), undefined), undefined);
  });

  it('counts accesses with first and last seen, and forgets after the retention', () => {
    let now = 1_000_000;
    const clock = {
      now: () => now,
      monotonic: () => now,
      setTimeout: () => ({}),
      clearTimeout: () => undefined,
    };
    const log = new AccessDiscoveries(clock, { retentionMs: 60_000 });
    const learned = learnedFromAccess(event('web.corp.internal'), 'g1');
    assert.ok(learned);
    log.record(learned);
    now += 5000;
    log.record({ ...learned, resolvedAddress: undefined });
    const [item] = log.list();
    assert.deepEqual(item, {
      source: 'access',
      name: 'web.corp.internal',
      port: 5432,
      resolved_address: '10.0.0.9:5432',
      application: 'corp',
      group: 'g1',
      connector: 'c1',
      first_seen_at: new Date(1_000_000).toISOString(),
      last_seen_at: new Date(1_005_000).toISOString(),
      count: 2,
    });
    now += 60_001;
    assert.deepEqual(log.list(), []);
  });
});
