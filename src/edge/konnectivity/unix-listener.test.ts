import { test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile, readFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenUnixSocket } from './unix-listener.js';

const close = (server: net.Server): Promise<void> =>
  new Promise((resolve) => server.close(() => resolve()));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'postern-konn-uds-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the socket is created with mode 0770 and removed on close', () =>
  withDir(async (dir) => {
    const path = join(dir, 's.sock');
    const server = await listenUnixSocket(path, (s) => s.end('hi'));
    assert.equal((await stat(path)).mode & 0o777, 0o770);
    await close(server);
    await assert.rejects(stat(path), { code: 'ENOENT' });
  }));

test('a left-over socket nobody serves is replaced', () =>
  withDir(async (dir) => {
    const path = join(dir, 's.sock');
    // A process killed outright leaves its socket file behind.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.ok((await stat(path)).isSocket());
    const server = await listenUnixSocket(path, (s) => s.end('fresh'));
    const reply = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ path });
      let text = '';
      c.on('data', (d: Buffer) => (text += d.toString()));
      c.on('end', () => resolve(text));
      c.on('error', reject);
    });
    assert.equal(reply, 'fresh');
    await close(server);
  }));

test('a socket another process serves, or a regular file, is never taken over', () =>
  withDir(async (dir) => {
    const live = join(dir, 'live.sock');
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen({ path: live }, resolve));
    await assert.rejects(
      listenUnixSocket(live, () => undefined),
      {
        code: 'POSTERN_ERR_KONNECTIVITY_SOCKET',
      },
    );
    await close(other);
    const file = join(dir, 'file');
    await writeFile(file, 'keep me');
    await assert.rejects(
      listenUnixSocket(file, () => undefined),
      {
        code: 'POSTERN_ERR_KONNECTIVITY_SOCKET',
      },
    );
    assert.equal(await readFile(file, 'utf8'), 'keep me');
  }));
