// Application health and learning by name, resolved for real: the connector (the built CLI) runs
// in an `ah-<pid>` network namespace whose resolver answers from /etc/netns/<ns>/hosts (mounted
// over /etc/hosts by `ip netns exec`), next to echo apps on that namespace's loopback. The edge
// runs in this process in the root namespace and takes the tunnel over a veth pair. The names
// exist nowhere else, so only the connector's own lookup can make them up. Needs root.
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTcpTunnel } from '../../src/client/index.js';
import { CLI_AUDIENCE } from '../../src/control/index.js';
import { eventually, startTestEdge, tempDir, type TestEdge } from '../harness/harness.js';
import { mustRun, runCommand } from './support/run-command.js';
import { CLI } from './support/site-lab.js';
import { requireNamespaceSupport } from './support/site-network.js';
import { SpawnedProcess } from './support/spawned-process.js';

const id = process.pid;
const n = (id % 250) + 1;
const NS = `ah-${id}`;
const IF = { root: `ahr${id % 100_000}`, site: `ahs${id % 100_000}` };
const IP = {
  root: `10.249.${n}.1`,
  site: `10.249.${n}.2`,
  db: `10.248.${n}.21`,
  web: `10.248.${n}.22`,
};
const NAMES = { db: 'db.apphealth.test', web: 'web.wild.apphealth.test' };
const PORTS = { db: 7021, web: 7022 };
const STEP_MS = 15_000;
const STATE_MS = 8_000;
const echoServer = new URL('./support/echo-server.js', import.meta.url).pathname;

const ip = (args: readonly string[]): Promise<string> => mustRun('ip', args, { timeoutMs: 5000 });

/** Removes an `ah-<pid>` namespace of a run that was killed (its processes first) and its files. */
async function removeNamespace(ns: string): Promise<void> {
  const pids = await runCommand('ip', ['netns', 'pids', ns], { timeoutMs: 5000 });
  for (const pid of pids.stdout.split('\n').filter(Boolean).map(Number)) {
    try {
      if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await runCommand('ip', ['netns', 'del', ns], { timeoutMs: 5000 });
  await rm(`/etc/netns/${ns}`, { recursive: true, force: true });
}

async function removeStaleNamespaces(): Promise<void> {
  const listed = await runCommand('ip', ['netns', 'list'], { timeoutMs: 5000 });
  for (const line of listed.stdout.split('\n')) {
    const match = /^ah-(\d+)\b/.exec(line);
    if (!match) continue;
    const owner = Number(match[1]);
    let alive = owner !== id;
    try {
      process.kill(owner, 0);
    } catch (err) {
      alive &&= (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) await removeNamespace(`ah-${owner}`);
  }
}

/** The namespace, the veth pair to the root namespace, the app addresses and the names. */
async function createSite(): Promise<void> {
  await ip(['netns', 'add', NS]);
  await ip(['link', 'add', IF.root, 'type', 'veth', 'peer', 'name', IF.site, 'netns', NS]);
  await ip(['addr', 'add', `${IP.root}/30`, 'dev', IF.root]);
  await ip(['link', 'set', IF.root, 'up']);
  await ip(['-n', NS, 'addr', 'add', `${IP.site}/30`, 'dev', IF.site]);
  await ip(['-n', NS, 'addr', 'add', `${IP.db}/32`, 'dev', 'lo']);
  await ip(['-n', NS, 'addr', 'add', `${IP.web}/32`, 'dev', 'lo']);
  await ip(['-n', NS, 'link', 'set', 'lo', 'up']);
  await ip(['-n', NS, 'link', 'set', IF.site, 'up']);
  await mkdir(`/etc/netns/${NS}`, { recursive: true });
  await writeFile(
    `/etc/netns/${NS}/hosts`,
    `127.0.0.1 localhost\n${IP.db} ${NAMES.db}\n${IP.web} ${NAMES.web}\n`,
  );
}

/** An echo app in the site namespace that can be stopped and started again on its address. */
class SiteApp {
  #process: SpawnedProcess | undefined;
  constructor(readonly address: string) {}
  async start(): Promise<void> {
    const p = new SpawnedProcess(`app ${this.address}`, 'ip', [
      'netns',
      'exec',
      NS,
      process.execPath,
      echoServer,
      this.address,
    ]);
    this.#process = p;
    await p.waitFor((l) => l.json?.listening === this.address, {
      timeoutMs: STEP_MS,
      what: 'the app listening',
    });
  }
  async stop(): Promise<void> {
    const p = this.#process;
    this.#process = undefined;
    if (p && !(await p.stop('SIGTERM', 5000))) await p.stop('SIGKILL', 5000);
  }
}

interface Health {
  state: string;
  reporting: string;
  last_check_at: string | null;
  destinations: { destination: string; state: string }[];
  connectors: { connector: string; group: string; state: string }[];
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

describe(
  'application health and learning by name (connector in a namespace)',
  { timeout: 60_000 },
  () => {
    const db = new SiteApp(`${IP.db}:${PORTS.db}`);
    const web = new SiteApp(`${IP.web}:${PORTS.web}`);
    let edge: TestEdge | undefined;
    let connector: SpawnedProcess | undefined;
    let dir = '';
    let ca = '';
    let token = '';
    let connectorId = '';

    const health = async (name: string): Promise<Health> => {
      const res = await edge!.api<{ health: Health }>('GET', `/applications/${name}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.health;
    };
    const waitState = (name: string, state: string, what: string) =>
      eventually(async () => (await health(name)).state === state, what, STATE_MS);

    before(async () => {
      await requireNamespaceSupport();
      await removeStaleNamespaces();
      await removeNamespace(NS);
      await createSite();
      dir = await tempDir('postern-ah-');
      await db.start();
      await web.start();
      const configDir = join(dir, 'config');
      await mkdir(configDir);
      await writeFile(
        join(configDir, 'apps.yaml'),
        [
          'version: 1',
          'connector_groups: [{name: ah-site}]',
          'applications:',
          '  - name: db',
          `    domains: [${NAMES.db}]`,
          `    ports: ["${PORTS.db}"]`,
          '    connector_groups: [ah-site]',
          '    health_reporting: continuous',
          '    health_check: {interval_ms: 150, timeout_ms: 500}',
          '  - name: wild',
          '    domains: ["*.wild.apphealth.test"]',
          `    ports: ["${PORTS.web}"]`,
          '    connector_groups: [ah-site]',
          '    health_check: {interval_ms: 150, timeout_ms: 500}',
          'access_policies:',
          '  - name: eng-tcp',
          '    action: allow',
          '    conditions: {groups: [eng], client_types: [tcp_client]}',
        ].join('\n'),
      );
      edge = await startTestEdge({
        configDir,
        tunnelListen: `${IP.root}:0`,
        access: { listen: '127.0.0.1:0' },
      });
      ca = await readFile(join(edge.dir, 'ca.crt'), 'utf8');
      const key = await edge.createKey('ah-site');
      connector = new SpawnedProcess('connector', 'ip', [
        'netns',
        'exec',
        NS,
        process.execPath,
        CLI,
        'connector',
        '--state-dir',
        join(dir, 'connector'),
        '--provision-key',
        key.value,
      ]);
      const ready = await connector.waitForLog('connector identity ready', { timeoutMs: STEP_MS });
      connectorId = String(ready.connector);
      await connector.waitForLog('tunnel up', { timeoutMs: STEP_MS });
      const user = { subject: 'u-ann', email: 'ann@example.com', groups: ['eng'], idp: 'corp' };
      token = (await edge.tokenAuthority.issue(user, { audience: CLI_AUDIENCE, ttlMs: 600_000 }))
        .token;
    });

    after(async () => {
      await connector?.stop('SIGKILL', 5000);
      await db.stop();
      await web.stop();
      await edge?.stop();
      await removeNamespace(NS);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('the names resolve only in the connector namespace, not in the edge process', async () => {
      // Without a network resolver the answer is EAI_AGAIN instead; either way, no address.
      const unresolved = (err: NodeJS.ErrnoException) =>
        err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN';
      await assert.rejects(lookup(NAMES.db), unresolved);
      await assert.rejects(lookup(NAMES.web), unresolved);
      const inSite = await mustRun('ip', ['netns', 'exec', NS, 'getent', 'hosts', NAMES.web], {
        timeoutMs: 5000,
      });
      assert.match(inSite, new RegExp(`^${IP.web.replaceAll('.', '\\.')}\\s+${NAMES.web}`));
    });

    it('continuous: an exact name is up without any access, down while its app is stopped, up again', async () => {
      await waitState('db', 'up', 'db up');
      const up = await health('db');
      assert.equal(up.reporting, 'continuous');
      assert.deepEqual(up.destinations, [{ destination: NAMES.db, state: 'up' }]);
      assert.equal(up.connectors[0]?.connector, connectorId);
      assert.equal(up.connectors[0]?.group, 'ah-site');
      assert.ok(up.last_check_at !== null);
      const metrics = await (await fetch(`${edge!.adminUrl}/metrics`)).text();
      assert.match(metrics, /postern_edge_application_health\{application="db",state="up"\} 1/);

      await db.stop();
      await waitState('db', 'down', 'db down after its app stopped');
      await db.start();
      await waitState('db', 'up', 'db up after its app came back');
    });

    it('on_access: unknown until used, then checked, down and up with the app', async () => {
      const unused = await health('wild');
      assert.equal(unused.state, 'unknown');
      assert.equal(unused.reporting, 'on_access');
      const socket = await openTcpTunnel(edge!.accessUrl!, `${NAMES.web}:${PORTS.web}`, {
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
        { destination: NAMES.web, state: 'up' },
      ]);
      await web.stop();
      await waitState('wild', 'down', 'wild down after its app stopped');
      await web.start();
      await waitState('wild', 'up', 'wild up after its app came back');
    });

    it('lists a name reached under a wildcard as discovered, with the address the connector resolved', async () => {
      const found = await eventually(async () => {
        const res = await edge!.api<{ items: AccessItem[] }>('GET', '/discovered-applications');
        return res.body.items.find((i) => i.source === 'access');
      }, 'a discovered application');
      assert.ok(found);
      assert.equal(found.name, NAMES.web);
      assert.equal(found.port, PORTS.web);
      assert.equal(found.resolved_address, `${IP.web}:${PORTS.web}`);
      assert.equal(found.application, 'wild');
      assert.equal(found.group, 'ah-site');
      assert.ok((found.count ?? 0) >= 1);
      assert.ok(found.first_seen_at !== undefined && found.last_seen_at !== undefined);
    });

    it('promotes a discovered name to a defined application, once', async () => {
      const body = { name: NAMES.web, application_name: 'web' };
      const created = await edge!.api<Record<string, unknown>>(
        'POST',
        '/discovered-applications/promote',
        body,
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.domains, [NAMES.web]);
      assert.deepEqual(created.body.ports, [String(PORTS.web)]);
      assert.deepEqual(created.body.connector_groups, ['ah-site']);
      assert.equal(created.body.owner, 'api');
      const again = await edge!.api('POST', '/discovered-applications/promote', body);
      assert.equal(again.status, 409);
      const other = await edge!.api('POST', '/discovered-applications/promote', {
        name: NAMES.web,
        application_name: 'web-two',
      });
      assert.equal(other.status, 409, 'the exact name is already defined');
      const unknown = await edge!.api('POST', '/discovered-applications/promote', {
        name: 'never.wild.apphealth.test',
        application_name: 'never',
      });
      assert.equal(unknown.status, 404);
      const read = await edge!.api<{ name: string; health: Health }>('GET', '/applications/web');
      assert.equal(read.status, 200);
      assert.equal(read.body.health.reporting, 'on_access');
    });
  },
);
