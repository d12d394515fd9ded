// End to end with the built CLI: `postern tcp` through the edge's access proxy to a private app
// that exists only in a `px-site-*` network namespace, behind a connector of the application's
// group. The edge, the CLI, curl and the clients run in `px-edge-*`. Tokens are issued with the
// edge's own signing key (the login flow has its own tests). Needs root; fails, never skips.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { saveCredential } from '../../src/client/index.js';
import { CLI_AUDIENCE, UserTokenAuthority, type UserIdentity } from '../../src/control/index.js';
import { DEFAULT_TOKEN_ISSUER } from '../../src/edge/index.js';
import { tempDir } from '../harness/harness.js';
import { findPostgresBin } from '../support/postgres-server.js';
import { mustRun, runCommand } from './support/run-command.js';
import { CLI } from './support/site-lab.js';
import { requireNamespaceSupport } from './support/site-network.js';
import { SpawnedProcess } from './support/spawned-process.js';
import type { EchoResult } from './support/tcp-client.js';

const id = process.pid;
const n = (id % 250) + 2;
const NS = { edge: `px-edge-${id}`, site: `px-site-${id}` };
const IP = { edge: `10.252.${n}.1`, site: `10.252.${n}.2`, app: `10.253.${n}.10` };
const ACCESS_URL = 'https://127.0.0.1:8444';
const ADMIN = 'http://127.0.0.1:9090';
const script = (name: string): string => new URL(`./support/${name}.js`, import.meta.url).pathname;

const people: Record<string, UserIdentity> = {
  alice: { subject: 'u-alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' },
  bob: { subject: 'u-bob', email: 'bob@example.com', groups: ['eng'], idp: 'corp' },
};

/** Runs a command inside a namespace with optional stdin; never rejects. */
function runIn(
  ns: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...args], {
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

async function ip(args: readonly string[]): Promise<void> {
  await mustRun('ip', args, { timeoutMs: 5000 });
}

describe(
  'TCP access through the edge access proxy (network namespaces)',
  { timeout: 180_000 },
  () => {
    const processes: SpawnedProcess[] = [];
    let dir = '';
    let adminToken = '';
    let edge: SpawnedProcess;
    const configDirs: Record<string, string> = {};

    const start = (
      ns: string,
      name: string,
      args: readonly string[],
      env: NodeJS.ProcessEnv = {},
    ) => {
      const p = new SpawnedProcess(
        name,
        'ip',
        ['netns', 'exec', ns, process.execPath, ...args],
        env,
      );
      processes.push(p);
      return p;
    };
    const api = async <T>(method: string, path: string, body?: unknown) => {
      const args = [process.execPath, script('admin-request'), method, `${ADMIN}/api/v1${path}`];
      if (body !== undefined) args.push(JSON.stringify(body));
      const out = await runIn(NS.edge, args, { env: { POSTERN_ADMIN_TOKEN: adminToken } });
      return JSON.parse(out.stdout) as { status: number; body: T };
    };
    const tcp = (user: string, args: readonly string[], input?: string) =>
      runIn(NS.edge, [process.execPath, CLI, 'tcp', ...args], {
        env: { POSTERN_CLI_CONFIG_DIR: configDirs[user] },
        ...(input === undefined ? {} : { input }),
      });

    before(async () => {
      await requireNamespaceSupport();
      dir = await tempDir('postern-px-');
      for (const ns of [NS.edge, NS.site])
        await runCommand('ip', ['netns', 'del', ns], { timeoutMs: 5000 });
      await ip(['netns', 'add', NS.edge]);
      await ip(['netns', 'add', NS.site]);
      await ip([
        'link',
        'add',
        `pxe${id}`,
        'netns',
        NS.edge,
        'type',
        'veth',
        'peer',
        'name',
        `pxs${id}`,
        'netns',
        NS.site,
      ]);
      await ip(['-n', NS.edge, 'addr', 'add', `${IP.edge}/30`, 'dev', `pxe${id}`]);
      await ip(['-n', NS.site, 'addr', 'add', `${IP.site}/30`, 'dev', `pxs${id}`]);
      await ip(['-n', NS.site, 'addr', 'add', `${IP.app}/32`, 'dev', 'lo']);
      for (const [ns, dev] of [
        [NS.edge, `pxe${id}`],
        [NS.site, `pxs${id}`],
      ] as const) {
        await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        await ip(['-n', ns, 'link', 'set', dev, 'up']);
      }
      // The application's names exist only in the site's resolver (ip netns exec mounts this file).
      await mkdir(`/etc/netns/${NS.site}`, { recursive: true });
      await writeFile(
        `/etc/netns/${NS.site}/hosts`,
        `127.0.0.1 localhost\n${IP.app} echo.px.internal web.px.internal db.px.internal\n`,
      );

      const configDir = join(dir, 'config');
      await mkdir(configDir);
      await writeFile(
        join(configDir, 'access.yaml'),
        [
          'version: 1',
          'connector_groups: [{name: px-site}]',
          'applications:',
          '  - {name: px-apps, domains: ["*.px.internal"], ports: [8080, 8081], connector_groups: [px-site]}',
          '  - {name: px-db, domains: [db.px.internal], ports: [5432], connector_groups: [px-site]}',
          'access_policies:',
          '  - {name: no-bob, action: deny, conditions: {users: [bob@example.com]}}',
          '  - {name: eng-tcp, action: allow, conditions: {groups: [eng], client_types: [tcp_client]}}',
        ].join('\n'),
      );
      const dataDir = join(dir, 'edge');
      edge = start(NS.edge, 'edge', [
        CLI,
        'edge',
        '--data-dir',
        dataDir,
        '--config-dir',
        configDir,
        '--tunnel-listen',
        `${IP.edge}:8443`,
        '--admin-listen',
        '127.0.0.1:9090',
        '--access-listen',
        '127.0.0.1:8444',
      ]);
      await edge.waitForLog('edge started', { timeoutMs: 15_000 });
      adminToken = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();

      start(NS.site, 'echo-app', [script('echo-server'), `${IP.app}:8080`]);
      const web = start(NS.site, 'web-app', [
        '-e',
        `require('http').createServer((q, s) => s.end('hello from the site')).listen(8081, '${IP.app}', () => console.log(JSON.stringify({ listening: true })))`,
      ]);
      await web.waitFor((l) => l.json?.listening === true, { timeoutMs: 10_000, what: 'web app' });

      const key = await api<{ value: string }>('POST', '/provisioning-keys', { group: 'px-site' });
      assert.equal(key.status, 201, JSON.stringify(key.body));
      const connector = start(NS.site, 'connector', [
        CLI,
        'connector',
        '--state-dir',
        join(dir, 'connector'),
        '--provision-key',
        key.body.value,
      ]);
      await connector.waitForLog('tunnel up', { timeoutMs: 15_000 });

      const pem = await readFile(join(dataDir, 'token-signing-key.pem'), 'utf8');
      const caPem = await readFile(join(dataDir, 'ca.crt'), 'utf8');
      const authority = await UserTokenAuthority.fromPem(pem, { issuer: DEFAULT_TOKEN_ISSUER });
      const longAgo = Date.now() - 3 * 3600_000;
      const stale = await UserTokenAuthority.fromPem(pem, {
        issuer: DEFAULT_TOKEN_ISSUER,
        clock: { now: () => longAgo, monotonic: () => 0, setTimeout, clearTimeout } as never,
      });
      const logins: [string, UserTokenAuthority, UserIdentity][] = [
        ['alice', authority, people.alice!],
        ['bob', authority, people.bob!],
        ['expired', stale, people.alice!],
      ];
      for (const [name, signer, who] of logins) {
        const { token, expiresAt } = await signer.issue(who, {
          audience: CLI_AUDIENCE,
          ttlMs: 3600_000,
        });
        configDirs[name] = join(dir, `home-${name}`);
        await saveCredential(
          ACCESS_URL,
          { token, expiresAt: Math.max(expiresAt, Date.now() + 3600_000), caPem, user: who.email },
          { configDir: configDirs[name] },
        );
      }
    });

    after(async () => {
      // runuser may leave postgres behind when killed: stop the server by its data directory.
      if (dir) {
        const data = join(dir, 'pg', 'data');
        await runCommand(
          'runuser',
          [
            '-u',
            'postgres',
            '--',
            join(findPostgresBin(), 'pg_ctl'),
            '-D',
            data,
            '-m',
            'immediate',
            'stop',
          ],
          { timeoutMs: 15_000 },
        );
      }
      for (const p of processes.reverse()) await p.stop('SIGKILL', 5000);
      for (const ns of [NS.edge, NS.site])
        await runCommand('ip', ['netns', 'del', ns], { timeoutMs: 5000 });
      await rm(`/etc/netns/${NS.site}`, { recursive: true, force: true });
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('the app answers inside the site only: the edge namespace cannot reach it', async () => {
      const probe = await runIn(NS.edge, [
        process.execPath,
        script('tcp-client'),
        'probe',
        `${IP.app}:8080`,
        '2000',
      ]);
      assert.equal((JSON.parse(probe.stdout) as { connected: boolean }).connected, false);
    });

    it('an allowed user reaches the app by name with `postern tcp --listen`', async () => {
      const forwarder = start(
        NS.edge,
        'tcp-listen',
        [CLI, 'tcp', 'echo.px.internal:8080', '--listen', '127.0.0.1:7100'],
        { POSTERN_CLI_CONFIG_DIR: configDirs.alice },
      );
      await forwarder.waitForLog('tcp forwarder ready', { timeoutMs: 10_000 });
      const out = await runIn(NS.edge, [
        process.execPath,
        script('tcp-client'),
        'echo',
        '127.0.0.1:7100',
        '3',
        String(256 * 1024),
        '15000',
      ]);
      const results = JSON.parse(out.stdout) as EchoResult[];
      assert.equal(results.length, 3);
      for (const r of results)
        assert.ok(r.ok && r.receivedSha256 === r.sentSha256, JSON.stringify(r));
      await forwarder.stop('SIGTERM', 5000);
    });

    it('an allowed user reaches the app with `postern tcp --stdio` (SSH ProxyCommand)', async () => {
      const res = await tcp('alice', ['echo.px.internal:8080', '--stdio'], 'hello through stdio\n');
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, 'hello through stdio\n');
    });

    it('a denied user is refused with 403 naming the rule', async () => {
      const res = await tcp('bob', ['echo.px.internal:8080', '--stdio'], 'x');
      assert.notEqual(res.code, 0);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /HTTP 403/);
      assert.match(res.stderr, /denied by rule "no-bob"/);
    });

    it('an expired token gets 407 and the CLI says to log in again (stdio exits non-zero, listen refuses)', async () => {
      const res = await tcp('expired', ['echo.px.internal:8080', '--stdio'], 'x');
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, new RegExp(`log in again: postern login --edge ${ACCESS_URL}`));
      assert.match(res.stderr, /expired/);
      const forwarder = start(
        NS.edge,
        'tcp-listen-expired',
        [CLI, 'tcp', 'echo.px.internal:8080', '--listen', '127.0.0.1:7101'],
        { POSTERN_CLI_CONFIG_DIR: configDirs.expired },
      );
      await forwarder.waitForLog('tcp forwarder ready', { timeoutMs: 10_000 });
      const out = await runIn(NS.edge, [
        process.execPath,
        script('tcp-client'),
        'echo',
        '127.0.0.1:7101',
        '1',
        '16',
        '10000',
      ]);
      const [result] = JSON.parse(out.stdout) as EchoResult[];
      assert.equal(result?.ok, false);
      assert.equal(result?.received, 0);
      const logged = await forwarder.waitFor(
        (l) => /log in again: postern login --edge/.test(l.text),
        { timeoutMs: 5000, what: 'the refusal logged' },
      );
      assert.match(logged.text, /POSTERN_ERR_LOGIN_REQUIRED/);
      await forwarder.stop('SIGTERM', 5000);
    });

    it('curl through the proxy reaches an HTTP app of the site', async () => {
      const token = JSON.parse(
        await readFile(join(configDirs.alice!, 'credentials.json'), 'utf8'),
      ) as { edges: Record<string, { token: string }> };
      const res = await runIn(NS.edge, [
        'curl',
        '-sS',
        '--max-time',
        '10',
        '--proxytunnel',
        '--proxy',
        ACCESS_URL,
        '--proxy-cacert',
        join(dir, 'edge', 'ca.crt'),
        '--proxy-header',
        `Proxy-Authorization: Bearer ${token.edges[ACCESS_URL]!.token}`,
        'http://web.px.internal:8081/',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout, 'hello from the site');
    });

    it('psql reaches a real PostgreSQL of the site through `postern tcp --listen`', async () => {
      const bin = findPostgresBin();
      const pgDir = join(dir, 'pg');
      await mkdir(pgDir);
      const ids = await mustRun('id', ['-u', 'postgres'], { timeoutMs: 5000 });
      const gid = await mustRun('id', ['-g', 'postgres'], { timeoutMs: 5000 });
      await chown(pgDir, Number(ids.trim()), Number(gid.trim()));
      await chown(dir, Number(ids.trim()), Number(gid.trim()));
      const asPostgres = ['runuser', '-u', 'postgres', '--'];
      await mustRun(
        asPostgres[0]!,
        [
          ...asPostgres.slice(1),
          join(bin, 'initdb'),
          '-D',
          join(pgDir, 'data'),
          '-U',
          'postgres',
          '-A',
          'trust',
          '--no-sync',
        ],
        { timeoutMs: 60_000 },
      );
      // The connector connects from the site's own address, not 127.0.0.1.
      await appendFile(join(pgDir, 'data', 'pg_hba.conf'), `host all all ${IP.app}/32 trust\n`);
      const server = new SpawnedProcess('postgres', 'ip', [
        'netns',
        'exec',
        NS.site,
        ...asPostgres,
        join(bin, 'postgres'),
        '-D',
        join(pgDir, 'data'),
        '-c',
        `listen_addresses=${IP.app}`,
        '-p',
        '5432',
        '-k',
        pgDir,
        '-c',
        'fsync=off',
      ]);
      processes.push(server);
      await server.waitFor((l) => /ready to accept connections/.test(l.text), {
        timeoutMs: 30_000,
        what: 'PostgreSQL ready',
      });
      const forwarder = start(
        NS.edge,
        'tcp-listen-pg',
        [CLI, 'tcp', 'db.px.internal:5432', '--listen', '127.0.0.1:7102'],
        { POSTERN_CLI_CONFIG_DIR: configDirs.alice },
      );
      await forwarder.waitForLog('tcp forwarder ready', { timeoutMs: 10_000 });
      const res = await runIn(NS.edge, [
        'psql',
        '-h',
        '127.0.0.1',
        '-p',
        '7102',
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-Atc',
        'select 6 * 7, inet_server_addr()',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout.trim(), `42|${IP.app}`);
      await forwarder.stop('SIGTERM', 5000);
      await server.stop('SIGINT', 10_000);
    });

    it('the activity log lists allow, deny and session ends with byte counts', async () => {
      interface Item {
        kind: string;
        action: string;
        user?: string;
        rule?: string;
        status?: number;
        bytes_from_client?: number;
        bytes_to_client?: number;
        connector?: string;
      }
      const res = await api<{ items: Item[] }>('GET', '/activity?limit=1000');
      assert.equal(res.status, 200);
      const items = res.body.items;
      assert.ok(
        items.some(
          (i) =>
            i.kind === 'decision' &&
            i.action === 'allow' &&
            i.user === 'alice@example.com' &&
            i.status === 200 &&
            i.connector,
        ),
      );
      assert.ok(
        items.some(
          (i) =>
            i.kind === 'decision' &&
            i.action === 'deny' &&
            i.user === 'bob@example.com' &&
            i.rule === 'no-bob' &&
            i.status === 403,
        ),
      );
      assert.ok(
        items.some((i) => i.kind === 'decision' && i.action === 'deny' && i.status === 407),
      );
      const ends = items.filter((i) => i.kind === 'session_end');
      assert.ok(
        ends.some((i) => i.bytes_from_client === 256 * 1024 && i.bytes_to_client === 256 * 1024),
        JSON.stringify(ends),
      );
      assert.ok(ends.some((i) => i.bytes_from_client === 'hello through stdio\n'.length));
    });
  },
);
