import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, startTestEdge, tempDir } from '../harness/harness.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 20_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

test('postern --version prints the package version', async () => {
  const { code, stdout } = await run(['--version']);
  assert.equal(code, 0);
  assert.equal(stdout.trim(), VERSION);
});

test('postern --help lists the commands', async () => {
  const { code, stdout } = await run(['--help']);
  assert.equal(code, 0);
  for (const command of ['edge', 'connector', 'keys', 'groups', 'connectors', 'demo'])
    assert.match(stdout, new RegExp(`\\n  ${command}\\b`));
});

test('user errors are one plain line with a code and a non-zero exit, never a stack trace', async () => {
  const closed = await freePort();
  const cases: { args: string[]; code: RegExp }[] = [
    {
      args: ['keys', 'list', '--admin', `http://127.0.0.1:${closed}`, '--token', 't'],
      code: /POSTERN_ERR_EDGE_UNREACHABLE/,
    },
    {
      args: ['edge', '--tunnel-listen', 'nonsense', '--data-dir', await tempDir()],
      code: /POSTERN_ERR_INVALID_ARGUMENT/,
    },
    {
      args: ['connector', '--state-dir', await tempDir()],
      code: /POSTERN_ERR_NO_PROVISIONING_KEY/,
    },
    {
      args: ['connector', '--state-dir', await tempDir(), '--provision-key', 'garbage'],
      code: /POSTERN_ERR_KEY_MALFORMED/,
    },
  ];
  for (const c of cases) {
    const { code, stderr } = await run(c.args, { POSTERN_PROVISION_KEY: '' });
    assert.equal(code, 1, `${c.args.join(' ')}: ${stderr}`);
    assert.match(stderr, c.code);
    assert.match(stderr, /^postern: /m);
    assert.doesNotMatch(stderr, /\n\s+at /, `no stack trace for ${c.args.join(' ')}`);
  }
  const unknown = await run(['bogus']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unknown command/);
});

test('keys create prints the key value alone; keys list and revoke work through the CLI', async () => {
  const edge = await startTestEdge();
  try {
    const admin = ['--admin', edge.adminUrl, '--token', edge.adminToken];
    assert.equal((await run(['groups', 'create', 'site-cli', ...admin])).code, 0);
    const created = await run([
      'keys',
      'create',
      '--group',
      'site-cli',
      '--max-usage',
      '3',
      '--expires',
      '1h',
      ...admin,
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^1\|127\.0\.0\.1:\d+\|k[0-9a-f]+\.[A-Za-z0-9_-]{43}\n$/);
    const keyId = created.stdout.split('|')[2]!.split('.')[0]!;
    const listed = await run(['keys', 'list', '--group', 'site-cli', '--json', ...admin]);
    const keys = JSON.parse(listed.stdout) as {
      id: string;
      max_usage: number;
      expires_at: string;
    }[];
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.id, keyId);
    assert.equal(keys[0]?.max_usage, 3);
    assert.ok(Math.abs(Date.parse(keys[0].expires_at) - Date.now() - 3_600_000) < 60_000);
    // A local edge's data dir gives both the admin URL and the token.
    const viaDir = await run(['keys', 'revoke', keyId, '--data-dir', edge.dir]);
    assert.equal(viaDir.code, 0, viaDir.stderr);
    const after = JSON.parse((await run(['keys', 'list', '--json', ...admin])).stdout) as {
      revoked: boolean;
    }[];
    assert.equal(after[0]?.revoked, true);
    const bad = await run(['keys', 'list', '--admin', edge.adminUrl, '--token', 'wrong']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /POSTERN_ERR_UNAUTHORIZED/);
  } finally {
    await edge.stop();
  }
});
