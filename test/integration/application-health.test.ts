// Application health reporting with a real edge, a real connector and an echo app on
// 127.0.0.21 that goes down and comes back, reached by address only. Health and learning of
// applications by name, resolved by the connector's own resolver, are in
// test/e2e/application-health-names.test.ts.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
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

describe('application health by address (edge + connector)', { timeout: 60_000 }, () => {
  let edge: TestEdge;
  let app: EchoApp;
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
    app = new EchoApp('127.0.0.21', await freePort());
    await app.start();
    const configDir = await tempDir('postern-apphealth-config-');
    await writeFile(
      join(configDir, 'apps.yaml'),
      [
        'version: 1',
        'connector_groups: [{name: ah-site}]',
        'applications:',
        '  - name: net',
        '    cidrs: [127.0.0.21/32]',
        `    ports: ["${app.port}"]`,
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
    await app?.stop();
  });

  it('on_access: an address is unknown until used, then checked, down and up with its app', async () => {
    const unused = await health('net');
    assert.equal(unused.state, 'unknown');
    assert.equal(unused.reporting, 'on_access');
    const socket = await openTcpTunnel(edge.accessUrl!, `127.0.0.21:${app.port}`, {
      token,
      caPem: ca,
    });
    const echoed = await new Promise<string>((resolve) => {
      socket.once('data', (c: Buffer) => resolve(c.toString()));
      socket.write('hello');
    });
    socket.destroy();
    assert.equal(echoed, 'hello');
    await waitState('net', 'up', 'net up after an access');
    const up = await health('net');
    assert.deepEqual(up.destinations, [{ destination: '127.0.0.21', state: 'up' }]);
    assert.equal(up.connectors[0]?.connector, connectorId);
    assert.equal(up.connectors[0]?.group, 'ah-site');
    assert.ok(up.last_check_at !== null);
    const metrics = await (await fetch(`${edge.adminUrl}/metrics`)).text();
    assert.match(metrics, /postern_edge_application_health\{application="net",state="up"\} 1/);

    await app.stop();
    await waitState('net', 'down', 'net down after its app stopped');
    await app.start();
    await waitState('net', 'up', 'net up after its app came back');
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
    assert.equal(states.net, 'up');
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
