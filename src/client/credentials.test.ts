import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfigDir, edgeKey, loadCredential, saveCredential } from './credentials.js';

test('a saved credential is read back for the same edge origin and the file is private', async (t) => {
  const dir = join(await mkdtemp(join(tmpdir(), 'postern-cred-')), 'cfg');
  t.after(() => rm(dir, { recursive: true, force: true }));
  await saveCredential(
    'https://Edge.Example:8444/',
    { token: 't1', expiresAt: 5 },
    { configDir: dir },
  );
  await saveCredential('https://other:8444', { token: 't2', expiresAt: 6 }, { configDir: dir });
  assert.deepEqual(await loadCredential('https://edge.example:8444/x', { configDir: dir }), {
    token: 't1',
    expiresAt: 5,
  });
  assert.equal((await stat(join(dir, 'credentials.json'))).mode & 0o777, 0o600);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  await saveCredential('https://edge.example:8444', undefined, { configDir: dir });
  assert.equal(await loadCredential('https://edge.example:8444', { configDir: dir }), undefined);
  assert.equal((await loadCredential('https://other:8444', { configDir: dir }))?.token, 't2');
});

test('a damaged credentials file is reported with a fix, not overwritten silently', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'postern-cred-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'credentials.json'), '{nope');
  await assert.rejects(loadCredential('https://e', { configDir: dir }), {
    code: 'POSTERN_ERR_CREDENTIALS_FILE',
  });
});

test('the config directory follows POSTERN_CLI_CONFIG_DIR, then XDG_CONFIG_HOME, never the edge variable', () => {
  assert.equal(defaultConfigDir({ POSTERN_CLI_CONFIG_DIR: '/a', POSTERN_CONFIG_DIR: '/e' }), '/a');
  assert.equal(defaultConfigDir({ XDG_CONFIG_HOME: '/x', POSTERN_CONFIG_DIR: '/e' }), '/x/postern');
  assert.equal(defaultConfigDir({ XDG_CONFIG_HOME: '/x' }), '/x/postern');
  assert.throws(() => edgeKey('not a url'), { code: 'POSTERN_ERR_EDGE_URL' });
});
