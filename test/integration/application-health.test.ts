// Application health reporting and application learning with a real edge, a real connector and
// echo apps on 127.0.0.x that go down and come back. Names under apphealth.test resolve to
// those addresses through the connector's own DNS lookup (patched in this process only).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTcpTunnel } from '../../src/client/index.js';
import { CLI_AUDIENCE } from '../../src/control/index.js';
import {
  eventually,
  freePort,
  startTestConnector,
  startTestEdge,
  stopAllConnectors,
  tempDir,
  type TestEdge,
} from '../harness/harness.js';

const NAMES: Record<string, string> = {
  'db.apphealth.test': '127.0.0.21',
  'web.wild.apphealth.test': '127.0.0.22',
};

type Lookup = (host: string, options?: { all?: boolean }) => Promise<unknown>;
const dnsPromises = createRequire(import.meta.url)('node:dns/promises') as { lookup: Lookup };
const realLookup = dnsPromises.lookup;

/** Makes the test names resolve (in this process) as a private DNS zone would. */
function patchLookup(): void {
  dnsPromises.lookup = (host, options) => {
    const address = NAMES[host.toLowerCase()];
    if (address === undefined) return realLookup(host, options);
    const answer = { address, family: 4 };
    return Promise.resolve(options?.all === true ? [answer] : answer);
  };
  syncBuiltinESMExports();
}

function restoreLookup(): void {
  dnsPromises.lookup = realLookup;
  syncBuiltinESMExports();
}

/** An echo app at a fixed address that can be stopped and started again on the same port. */
class EchoApp {
  #server: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();
  constructor(
    readonly host: string,
    readonly port: number,
  ) {}
  async start(): Promise<void> {
    const server = net.createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.host, port: this.port }, () => resolve());
    });
    this.#server = server;
  }
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface Health {
  state: string;
  reporting: string;
  last_check_at: string | null;
  destinations: { destination: string; state: string }[];
  connectors: { connector: string; group: string; state: string; destinations: unknown[] }[];
}

interface AccessItem {
  source: string;
  name?: string;
  port?: number;
  resolved_address?: string;
  application?: string;
  group?: string;
  count?: number;
  first_seen_at?: string;
  last_seen_at?: string;
}

describe('application health and learning (edge + connector)', { timeout: 90_000 }, () => {
  let edge: TestEdge;
  let db: EchoApp;
  let web: EchoApp;
  let ca: string;
  let token: string;
  let connectorId: string;

  const health = async (name: string): Promise<Health> => {
    const res = await edge.api<{ health: Health }>('GET', `/applications/${name}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.health;
  };
  const waitState = (name: string, state: string, what: string) =>
    eventually(async () => (await health(name)).state === state, what, 8000);

  before(async () => {
    patchLookup();
    db = new EchoApp('127.0.0.21', await freePort());
    web = new EchoApp('127.0.0.22', await freePort());
    await db.start();
    await web.start();
    const configDir = await tempDir('postern-apphealth-config-');
    await writeFile(
      join(configDir, 'apps.yaml'),
      [
        'version: 1',
        'connector_groups: [{name: ah-site}]',
        'applications:',
        '  - name: db',
        '    domains: [db.apphealth.test]',
        `    ports: ["${db.port}"]`,
        '    connector_groups: [ah-site]',
        '    health_reporting: continuous',
        '    health_check: {interval_ms: 150, timeout_ms: 500}',
        '  - name: wild',
        '    domains: ["*.wild.apphealth.test"]',
        `    ports: ["${web.port}"]`,
        '    connector_groups: [ah-site]',
        '    health_check: {interval_ms: 150, timeout_ms: 500}',
        '  - name: quiet',
        '    cidrs: [127.0.0.23/32]',
        '    ports: ["22"]',
        '    connector_groups: [ah-site]',
        '    health_reporting: none',
        'access_policies:',
        '  - name: eng-tcp',
        '    action: allow',
        '    conditions: {groups: [eng], client_types: [tcp_client]}',
      ].join('\n'),
    );
    edge = await startTestEdge({ configDir, access: { listen: '127.0.0.1:0' } });
    ca = await readFile(join(edge.dir, 'ca.crt'), 'utf8');
    const key = await edge.createKey('ah-site');
    connectorId =
      (await startTestConnector({ provisionKey: key.value })).identity?.connectorId ?? '';
    const user = { subject: 'u-ann', email: 'ann@example.com', groups: ['eng'], idp: 'corp' };
    token = (await edge.tokenAuthority.issue(user, { audience: CLI_AUDIENCE, ttlMs: 600_000 }))
      .token;
  });

  after(async () => {
    await stopAllConnectors();
    await edge?.stop();
    await db?.stop();
    await web?.stop();
    restoreLookup();
  });

  it('continuous: an exact name is up without any access, down while its app is stopped, up again', async () => {
    await waitState('db', 'up', 'db up');
    const up = await health('db');
    assert.equal(up.reporting, 'continuous');
    assert.deepEqual(up.destinations, [{ destination: 'db.apphealth.test', state: 'up' }]);
    assert.equal(up.connectors[0]?.connector, connectorId);
    assert.equal(up.connectors[0]?.group, 'ah-site');
    assert.ok(up.last_check_at !== null);
    const metrics = await (await fetch(`${edge.adminUrl}/metrics`)).text();
    assert.match(metrics, /postern_edge_application_health\{application="db",state="up"\} 1/);

    await db.stop();
    await waitState('db', 'down', 'db down after its app stopped');
    await db.start();
    await waitState('db', 'up', 'db up after its app came back');
  });

  it('on_access: unknown until used, then checked, down and up with the app', async () => {
    const before = await health('wild');
    assert.equal(before.state, 'unknown');
    assert.equal(before.reporting, 'on_access');
    const socket = await openTcpTunnel(edge.accessUrl!, `web.wild.apphealth.test:${web.port}`, {
      token,
      caPem: ca,
    });
    const echoed = await new Promise<string>((resolve) => {
      socket.once('data', (c: Buffer) => resolve(c.toString()));
      socket.write('hello');
    });
    socket.destroy();
    assert.equal(echoed, 'hello');
    await waitState('wild', 'up', 'wild up after an access');
    assert.deepEqual((await health('wild')).destinations, [
      { destination: 'web.wild.apphealth.test', state: 'up' },
    ]);
    await web.stop();
    await waitState('wild', 'down', 'wild down after its app stopped');
    await web.start();
    await waitState('wild', 'up', 'wild up after its app came back');
  });

  it('none: never checked, always unknown', async () => {
    const quiet = await health('quiet');
    assert.deepEqual(quiet, {
      state: 'unknown',
      reporting: 'none',
      last_check_at: null,
      destinations: [],
      connectors: [],
    });
    const list = await edge.api<{ items: { name: string; health?: Health }[] }>(
      'GET',
      '/applications',
    );
    const states = Object.fromEntries(list.body.items.map((a) => [a.name, a.health?.state]));
    assert.equal(states.quiet, 'unknown');
    assert.equal(states.db, 'up');
  });

  it('lists a name reached under a wildcard as discovered, with the address the connector resolved', async () => {
    const found = await eventually(async () => {
      const res = await edge.api<{ items: AccessItem[] }>('GET', '/discovered-applications');
      return res.body.items.find((i) => i.source === 'access');
    }, 'a discovered application');
    assert.ok(found);
    assert.equal(found.name, 'web.wild.apphealth.test');
    assert.equal(found.port, web.port);
    assert.equal(found.resolved_address, `127.0.0.22:${web.port}`);
    assert.equal(found.application, 'wild');
    assert.equal(found.group, 'ah-site');
    assert.ok((found.count ?? 0) >= 1);
    assert.ok(found.first_seen_at !== undefined && found.last_seen_at !== undefined);
  });

  it('promotes a discovered name to a defined application, once', async () => {
    const body = { name: 'web.wild.apphealth.test', application_name: 'web' };
    const created = await edge.api<Record<string, unknown>>(
      'POST',
      '/discovered-applications/promote',
      body,
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.domains, ['web.wild.apphealth.test']);
    assert.deepEqual(created.body.ports, [String(web.port)]);
    assert.deepEqual(created.body.connector_groups, ['ah-site']);
    assert.equal(created.body.owner, 'api');
    const again = await edge.api('POST', '/discovered-applications/promote', body);
    assert.equal(again.status, 409);
    const other = await edge.api('POST', '/discovered-applications/promote', {
      name: 'web.wild.apphealth.test',
      application_name: 'web-two',
    });
    assert.equal(other.status, 409, 'the exact name is already defined');
    const unknown = await edge.api('POST', '/discovered-applications/promote', {
      name: 'never.wild.apphealth.test',
      application_name: 'never',
    });
    assert.equal(unknown.status, 404);
    const read = await edge.api<{ name: string; health: Health }>('GET', '/applications/web');
    assert.equal(read.status, 200);
    assert.equal(read.body.health.reporting, 'on_access');
  });

  it('publishes the health and promote shapes in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${edge.adminUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
      components: { schemas: Record<string, unknown> };
    };
    assert.ok(doc.components.schemas.ApplicationHealth);
    assert.ok(doc.components.schemas.PromoteDiscovered);
    assert.ok(doc.paths['/api/v1/discovered-applications/promote']?.post?.requestBody);
  });
});
