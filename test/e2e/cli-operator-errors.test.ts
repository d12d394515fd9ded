// Operator mistakes with the built CLI: each ends with one `postern: …` line and exit 1, never
// a stack trace or a hang, and the hint in the line can be followed as written.
import assert from 'node:assert/strict';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { freePort, startTestEdge, type TestEdge } from '../harness/harness.js';
import { runCommand, type CommandResult } from './support/run-command.js';
import { SpawnedProcess } from './support/spawned-process.js';
import { tempDirsRemovedAfter } from './support/temp-dirs.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const STACK_LINE = /^\s+at /m;

let edge: TestEdge;
before(async () => {
  edge = await startTestEdge({ access: { listen: '127.0.0.1:0' } });
});
after(async () => {
  await edge.stop();
});

/** Temporary directories, removed after the tests. */
const tempDir = tempDirsRemovedAfter();

/** Runs the CLI with no admin URL or token from the test's environment. */
function postern(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return runCommand(process.execPath, [CLI, ...args], {
    timeoutMs: 30_000,
    env: {
      POSTERN_ADMIN_URL: '',
      POSTERN_ADMIN_TOKEN: '',
      POSTERN_DATA_DIR: '',
      POSTERN_DEBUG: '',
      ...env,
    },
  });
}

function assertOneLineFailure(result: CommandResult, what: string): string {
  assert.equal(result.code, 1, `${what}: exit code\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, STACK_LINE, `${what}: no stack trace\n${result.stderr}`);
  const lines = result.stderr.split('\n').filter((l) => l.startsWith('postern: '));
  assert.equal(lines.length, 1, `${what}: one postern: line\n${result.stderr}`);
  return lines[0] ?? '';
}

test('a malformed --expires is one coded line naming the duration, not a stack trace', async () => {
  const admin = ['--admin', edge.adminUrl, '--token', edge.adminToken];
  const result = await postern(['keys', 'create', '--group', 'g', '--expires', '5x', ...admin]);
  const line = assertOneLineFailure(result, 'keys create --expires 5x');
  assert.match(line, /"5x"/);
  assert.match(line, /POSTERN_ERR_INVALID_ARGUMENT/);
});

test('restoring from a file that does not exist is one line naming the file', async () => {
  const dataDir = await tempDir('clifix-restore-');
  const result = await postern([
    'admin',
    'restore',
    '/nonexistent/clifix.json',
    '--data-dir',
    dataDir,
  ]);
  const line = assertOneLineFailure(result, 'admin restore /nonexistent');
  assert.match(line, /\/nonexistent\/clifix\.json/);
});

test('a usage error reads like any other error: postern: <what>, exit 2', async () => {
  const result = await postern(['keys', 'create', '--token', 'x']);
  assert.equal(result.code, 2, `usage errors exit 2\n${result.stderr}`);
  assert.equal(result.stderr.split('\n').filter(Boolean).length, 1, result.stderr);
  assert.match(result.stderr, /^postern: .*--group/);
  assert.doesNotMatch(result.stderr, /^error: /m);
});

test('the role hint of a refused request is a complete tokens create command', async () => {
  const created = await postern([
    ...['tokens', 'create', 'clifix-viewer', '--role', 'viewer'],
    ...['--admin', edge.adminUrl, '--token', edge.adminToken],
  ]);
  assert.equal(created.code, 0, created.stderr);
  const viewer = created.stdout.trim();
  const result = await postern([
    'groups',
    'create',
    'site-x',
    '--admin',
    edge.adminUrl,
    '--token',
    viewer,
  ]);
  const line = assertOneLineFailure(result, 'groups create as viewer');
  const hint = /`(postern tokens create [^`]*)`/.exec(line)?.[1];
  assert.ok(hint, `a command in the message: ${line}`);
  // Followed as written (by an admin), the hint creates a token with the needed role.
  const args = hint.split(' ').slice(1);
  const followed = await postern([...args, '--admin', edge.adminUrl, '--token', edge.adminToken]);
  assert.equal(followed.code, 0, `\`${hint}\` works as written: ${followed.stderr}`);
  const again = await postern([
    'groups',
    'create',
    'site-x',
    '--admin',
    edge.adminUrl,
    '--token',
    followed.stdout.trim(),
  ]);
  assert.equal(again.code, 0, again.stderr);
});

test('an admin API that cannot be reached names --admin and --data-dir', async () => {
  const closed = await freePort();
  const dataDir = await tempDir('clifix-empty-');
  const result = await postern(['keys', 'list', '--token', 'x', '--data-dir', dataDir], {
    POSTERN_ADMIN_URL: `http://127.0.0.1:${closed}`,
  });
  const line = assertOneLineFailure(result, 'keys list, nothing listening');
  assert.match(line, /POSTERN_ERR_EDGE_UNREACHABLE/);
  assert.match(line, /--admin/);
  assert.match(line, /--data-dir/);
  assert.match(line, /admin-url/);
});

test('postern login fails at once, with the edge reason, when the edge has no identity provider', async () => {
  const home = await tempDir('clifix-home-');
  const started = Date.now();
  const result = await runCommand(
    process.execPath,
    [
      CLI,
      'login',
      '--edge',
      edge.accessUrl ?? '',
      '--ca',
      join(edge.dir, 'ca.crt'),
      '--no-browser',
    ],
    { timeoutMs: 20_000, env: { HOME: home, XDG_CONFIG_HOME: home } },
  );
  const line = assertOneLineFailure(result, 'login without identity provider');
  assert.ok(Date.now() - started < 15_000, 'well before the 300 s login timeout');
  assert.match(line, /POSTERN_ERR_LOGIN_UNAVAILABLE/);
  assert.match(line, /No identity provider for the CLI/);
  assert.match(line, /has no identity provider\. Add one \(identity_providers/, 'how to add one');
  assert.match(line, /POST \/api\/v1\/identity-providers/);
  assert.doesNotMatch(result.stderr, /Open this URL/, 'no URL to a login that cannot work');
});

test('postern login checks the edge even when this process does not trust its certificate', async () => {
  const home = await tempDir('clifix-home-');
  const result = await runCommand(
    process.execPath,
    [CLI, 'login', '--edge', edge.accessUrl ?? '', '--no-browser', '--timeout', '15'],
    { timeoutMs: 20_000, env: { HOME: home, XDG_CONFIG_HOME: home } },
  );
  const line = assertOneLineFailure(result, 'login without --ca');
  assert.match(line, /POSTERN_ERR_LOGIN_UNAVAILABLE/);
});

test('postern login --device fails at once when the edge has no identity provider', async () => {
  const home = await tempDir('clifix-home-');
  const result = await runCommand(
    process.execPath,
    [CLI, 'login', '--edge', edge.accessUrl ?? '', '--ca', join(edge.dir, 'ca.crt'), '--device'],
    { timeoutMs: 20_000, env: { HOME: home, XDG_CONFIG_HOME: home } },
  );
  const line = assertOneLineFailure(result, 'login --device without identity provider');
  assert.match(line, /has no identity provider\. Add one/);
  assert.doesNotMatch(result.stderr, /open this page/);
});

test('the edge refuses a bootstrap admin token shorter than 16 characters', async () => {
  const dataDir = await tempDir('clifix-edge-');
  const result = await postern(
    [
      'edge',
      '--data-dir',
      dataDir,
      '--tunnel-listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
    ],
    { POSTERN_ADMIN_TOKEN: 'abc' },
  );
  const line = assertOneLineFailure(result, 'edge with a 3-character token');
  assert.match(line, /POSTERN_ADMIN_TOKEN/);
  assert.match(line, /16/);
  assert.match(line, /openssl rand -hex 32/);
});

test('the ready line shows where the tunnel listens, the advertised address, and the token source', async () => {
  const dataDir = await tempDir('clifix-edge-');
  const token = 'clifix-0123456789abcdef0123456789abcdef';
  const edgeProcess = new SpawnedProcess(
    'edge',
    process.execPath,
    [
      ...[CLI, 'edge', '--data-dir', dataDir, '--tunnel-listen', '127.0.0.1:0'],
      ...['--admin-listen', '127.0.0.1:0', '--advertise-address', 'edge.example.com:8443'],
    ],
    { POSTERN_ADMIN_TOKEN: token, POSTERN_LOG_LEVEL: 'warn' },
  );
  try {
    const ready = await edgeProcess.waitFor((l) => l.text.startsWith('postern edge ready:'), {
      timeoutMs: 20_000,
      what: 'the ready line',
    });
    assert.match(ready.text, /tunnel 127\.0\.0\.1:\d+ \(advertised as edge\.example\.com:8443\)/);
    assert.match(ready.text, /admin token from POSTERN_ADMIN_TOKEN/);
    assert.doesNotMatch(ready.text, /admin-token/);
    await assert.rejects(access(join(dataDir, 'admin-token')), 'no token file was written');
    const adminUrl = /admin (http:\/\/\S+?)[ ,]/.exec(ready.text)?.[1];
    const res = await fetch(`${adminUrl}/api/v1/pools`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200, 'the token from the environment is the admin token');
  } finally {
    assert.ok(await edgeProcess.stop('SIGTERM', 15_000), 'the edge stops on SIGTERM');
  }
});

test('without POSTERN_ADMIN_TOKEN the ready line names the token file it wrote', async () => {
  const dataDir = await tempDir('clifix-edge-');
  const edgeProcess = new SpawnedProcess(
    'edge',
    process.execPath,
    [
      CLI,
      'edge',
      '--data-dir',
      dataDir,
      '--tunnel-listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
    ],
    { POSTERN_ADMIN_TOKEN: '', POSTERN_ADVERTISE_ADDRESS: '', POSTERN_LOG_LEVEL: 'warn' },
  );
  try {
    const ready = await edgeProcess.waitFor((l) => l.text.startsWith('postern edge ready:'), {
      timeoutMs: 20_000,
      what: 'the ready line',
    });
    assert.ok(ready.text.includes(`token in ${join(dataDir, 'admin-token')}`), ready.text);
    assert.doesNotMatch(ready.text, /advertised as/, 'nothing to add when both are the same');
    await access(join(dataDir, 'admin-token'));
  } finally {
    assert.ok(await edgeProcess.stop('SIGTERM', 15_000), 'the edge stops on SIGTERM');
  }
});

// Kept last: writes a file the other tests do not read.
test('a plain error from a command is one line without a stack trace', async () => {
  const dir = await tempDir('clifix-bad-');
  const file = join(dir, 'not-json.json');
  await writeFile(file, '{ this is not json');
  const result = await postern(['admin', 'restore', file, '--data-dir', dir]);
  assertOneLineFailure(result, 'admin restore of a malformed file');
});
