import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCredential } from './credentials.js';
import { chooseEdge } from './tcp-edge.js';

const login = (token: string) => ({ token, expiresAt: Date.now() + 60_000, caPem: 'stored-ca' });

test('without --edge the only stored login is used, with its stored CA', async () => {
  const configDir = await mkdtemp(join(tmpdir(), 'postern-tcp-edge-'));
  try {
    await assert.rejects(chooseEdge({ configDir }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'POSTERN_ERR_EDGE_REQUIRED');
      assert.match(err.message, /not logged in to any edge/);
      return true;
    });
    await saveCredential('https://a.example:8444', login('t-a'), { configDir });
    const only = await chooseEdge({ configDir });
    assert.equal(only.edgeUrl, 'https://a.example:8444');
    assert.equal(only.credential.token, 't-a');
    assert.equal(only.caPem, 'stored-ca');
    await saveCredential('https://b.example:8444', login('t-b'), { configDir });
    await assert.rejects(chooseEdge({ configDir }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'POSTERN_ERR_EDGE_REQUIRED');
      assert.match(err.message, /https:\/\/a\.example:8444, https:\/\/b\.example:8444/);
      return true;
    });
  } finally {
    await rm(configDir, { recursive: true, force: true });
  }
});

test('--edge picks a login, --ca replaces the stored CA, and an unknown edge asks to log in', async () => {
  const configDir = await mkdtemp(join(tmpdir(), 'postern-tcp-edge-'));
  try {
    await saveCredential('https://a.example:8444', login('t-a'), { configDir });
    await saveCredential('https://b.example:8444', login('t-b'), { configDir });
    const caFile = join(configDir, 'ca.pem');
    await writeFile(caFile, 'file-ca');
    const b = await chooseEdge({ configDir, edge: 'https://B.example:8444/', caFile });
    assert.equal(b.credential.token, 't-b');
    assert.equal(b.caPem, 'file-ca');
    await assert.rejects(
      chooseEdge({ configDir, edge: 'https://c.example:8444' }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'POSTERN_ERR_LOGIN_REQUIRED');
        assert.match(err.message, /log in again: postern login --edge https:\/\/c\.example:8444/);
        return true;
      },
    );
  } finally {
    await rm(configDir, { recursive: true, force: true });
  }
});
