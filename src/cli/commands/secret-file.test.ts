import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { isPosternError } from '../../core/index.js';
import { tempDir } from '../../../test/harness/harness.js';
import { readSecretFile, secretFromValueOrFile } from './secret-file.js';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));

let dir: string;
before(async () => {
  dir = await tempDir('postern-deployh-secret-');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

const names = { valueName: '--store or POSTERN_STORE', fileName: '--store-file' };

test('a secret file is read without the white space around it', async () => {
  const path = await file('url', '  postgres://u:p%20w@db:5432/postern\n\n');
  assert.equal(await readSecretFile(path, '--store-file'), 'postgres://u:p%20w@db:5432/postern');
  assert.equal(
    await secretFromValueOrFile({ ...names, file: path }),
    'postgres://u:p%20w@db:5432/postern',
  );
});

test('an empty or blank secret file is POSTERN_ERR_SECRET_FILE naming the flag and path', async () => {
  for (const content of ['', ' \n\t\n']) {
    const path = await file('blank', content);
    await assert.rejects(
      readSecretFile(path, '--admin-token-file'),
      (err: unknown) =>
        isPosternError(err, 'POSTERN_ERR_SECRET_FILE') &&
        err.message.includes('--admin-token-file') &&
        err.message.includes(path) &&
        err.message.includes('empty'),
    );
  }
});

test('a missing or unreadable secret file is POSTERN_ERR_SECRET_FILE with the system reason', async () => {
  const missing = join(dir, 'no-such-file');
  await assert.rejects(
    secretFromValueOrFile({ ...names, file: missing }),
    (err: unknown) =>
      isPosternError(err, 'POSTERN_ERR_SECRET_FILE') &&
      err.message.includes(missing) &&
      err.message.includes('ENOENT') &&
      (err.cause as NodeJS.ErrnoException).code === 'ENOENT',
  );
  // A directory (a Secret mounted without `items`, say) is not the file.
  await assert.rejects(readSecretFile(dir, '--store-file'), /EISDIR/);
});

test('the value and the file together are refused, whichever would have won', async () => {
  const path = await file('both', 'from-file');
  await assert.rejects(
    secretFromValueOrFile({ ...names, value: 'postgres://x/y', file: path }),
    (err: unknown) =>
      isPosternError(err, 'POSTERN_ERR_INVALID_ARGUMENT') &&
      err.message.includes('--store-file') &&
      err.message.includes('POSTERN_STORE'),
  );
});

test('only the value, or neither: the value as given, or undefined; empty counts as unset', async () => {
  assert.equal(await secretFromValueOrFile({ ...names, value: 'v' }), 'v');
  assert.equal(await secretFromValueOrFile({ ...names }), undefined);
  assert.equal(await secretFromValueOrFile({ ...names, value: '', file: '' }), undefined);
  const path = await file('with-empty-value', 'f');
  assert.equal(await secretFromValueOrFile({ ...names, value: '', file: path }), 'f');
});

/** Runs the built CLI with only the given POSTERN_* variables; killed after 20 s. */
function cli(args: string[], extraEnv: Record<string, string> = {}) {
  return new Promise<{ code: number | string; stderr: string }>((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, POSTERN_LOG_LEVEL: 'error', ...extraEnv };
    for (const name of Object.keys(env))
      if (name.startsWith('POSTERN_') && !(name in extraEnv) && name !== 'POSTERN_LOG_LEVEL')
        delete env[name];
    execFile(process.execPath, [CLI, ...args], { env, timeout: 20_000 }, (err, _out, stderr) =>
      resolve({
        code: err ? ((err as { code?: number }).code ?? String(err.signal)) : 0,
        stderr,
      }),
    );
  });
}

const edgeArgs = async () => [
  'edge',
  '--data-dir',
  await tempDir('postern-deployh-edge-'),
  '--tunnel-listen',
  '127.0.0.1:0',
  '--admin-listen',
  '127.0.0.1:0',
];

test('edge --store-file hands the file content to the store', async () => {
  // A location the store refuses proves the content (not the path) reached it.
  const path = await file('store-url', 'mysql://db.example/postern\n');
  const run = await cli([...(await edgeArgs()), '--store-file', path]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /POSTERN_ERR_STORE_URL/);
  assert.match(run.stderr, /mysql:\/\/db\.example\/postern"/, 'trimmed');
  const both = await cli([...(await edgeArgs())], {
    POSTERN_STORE_FILE: path,
    POSTERN_STORE: 'postgres://db/x',
  });
  assert.equal(both.code, 1, both.stderr);
  assert.match(
    both.stderr,
    /--store-file: it is given together with --store.*POSTERN_ERR_INVALID_ARGUMENT/,
  );
});

test('edge --admin-token-file is the bootstrap token, checked like POSTERN_ADMIN_TOKEN', async () => {
  const short = await file('short-token', 'abc\n');
  const run = await cli([...(await edgeArgs())], { POSTERN_ADMIN_TOKEN_FILE: short });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /3 characters/);
  const empty = await file('empty-token', '\n');
  const blank = await cli([...(await edgeArgs()), '--admin-token-file', empty]);
  assert.equal(blank.code, 1, blank.stderr);
  assert.match(blank.stderr, /POSTERN_ERR_SECRET_FILE/);
  const token = await file('token', 'x'.repeat(40));
  const both = await cli([...(await edgeArgs()), '--admin-token-file', token], {
    POSTERN_ADMIN_TOKEN: 'y'.repeat(40),
  });
  assert.equal(both.code, 1, both.stderr);
  assert.match(
    both.stderr,
    /--admin-token-file: it is given together with POSTERN_ADMIN_TOKEN.*POSTERN_ERR_INVALID_ARGUMENT/,
  );
});

test('connector --provision-key-file: an empty file or one given with the key stops it at once', async () => {
  const state = await tempDir('postern-deployh-conn-');
  const empty = await file('empty-key', '');
  const run = await cli(['connector', '--state-dir', state, '--provision-key-file', empty]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /POSTERN_ERR_SECRET_FILE/);
  const key = await file('key', '1|127.0.0.1:1|kid.secret\n');
  const both = await cli(['connector', '--state-dir', state, '--provision-key-file', key], {
    POSTERN_PROVISION_KEY: '1|127.0.0.1:1|kid.secret',
  });
  assert.equal(both.code, 1, both.stderr);
  assert.match(
    both.stderr,
    /--provision-key-file: it is given together with --provision-key.*POSTERN_ERR_INVALID_ARGUMENT/,
  );
});
