// A multi-core edge (--workers 2) whose workers cannot start must exit 1 with the reason printed
// once, and leave no process behind: a supervisor has to see the failure, not a silent edge.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { freePort } from '../harness/harness.js';
import { startPostgres } from '../support/postgres-server.js';
import { SpawnedProcess } from './support/spawned-process.js';
import { tempDirsRemovedAfter } from './support/temp-dirs.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Temporary directories, removed after the tests. */
const tempDir = tempDirsRemovedAfter();

/** Pids of live processes whose command line contains `marker`. */
async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) pids.push(Number(name));
  }
  return pids;
}

test(
  'an edge with --workers 2 and an unreachable store exits 1 at once, reason printed once',
  { timeout: 60_000 },
  async () => {
    const dataDir = await tempDir('clifix-workers-');
    const closed = await freePort();
    const edge = new SpawnedProcess(
      'edge',
      process.execPath,
      [
        ...[CLI, 'edge', '--workers', '2', '--data-dir', dataDir],
        ...['--store', `postgres://nouser:x@127.0.0.1:${closed}/postern`],
        ...['--tunnel-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'],
      ],
      { POSTERN_LOG_LEVEL: 'warn', POSTERN_ADMIN_TOKEN: '' },
    );
    // Without the fix it hung; a refused store answers at once, so 20 s only covers a loaded host.
    const exit = await Promise.race([
      edge.exited,
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000).unref()),
    ]);
    try {
      assert.notEqual(exit, 'hung', `the edge did not exit within 20 s\n${edge.tail()}`);
      assert.deepEqual(exit, { code: 1, signal: null }, edge.tail());
      const reasons = edge.lines.filter((l) => l.text.includes('POSTERN_ERR_STORE_CONNECT'));
      assert.equal(reasons.length, 1, `printed once, not once per worker\n${edge.tail()}`);
      assert.match(reasons[0]?.text ?? '', /^postern: /);
      assert.ok(!edge.lines.some((l) => /^\s+at /.test(l.text)), 'no stack trace');
      assert.deepEqual(await processesWith(dataDir), [], 'no worker is left running');
    } finally {
      if (!edge.hasExited) await edge.stop('SIGKILL', 5_000);
      for (const pid of await processesWith(dataDir)) process.kill(pid, 'SIGKILL');
    }
  },
);

test(
  'SIGTERM to a multi-core edge whose workers are still starting ends every process',
  { timeout: 60_000 },
  async () => {
    const dataDir = await tempDir('clifix-workers-');
    // A "database" that accepts and never answers: the workers stay in start-up (connecting).
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const edge = new SpawnedProcess(
      'edge',
      process.execPath,
      [
        ...[CLI, 'edge', '--workers', '2', '--data-dir', dataDir],
        ...['--store', `postgres://nouser:x@127.0.0.1:${port}/postern`],
        ...['--tunnel-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'],
      ],
      { POSTERN_LOG_LEVEL: 'info', POSTERN_ADMIN_TOKEN: '' },
    );
    try {
      await edge.waitForLog('edge workers started', { timeoutMs: 20_000 });
      // Both workers are connecting to the silent store.
      const deadline = Date.now() + 15_000;
      while (sockets.size < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(sockets.size >= 2, `both workers connect to the store\n${edge.tail()}`);
      assert.ok(!edge.hasExited, `still starting\n${edge.tail()}`);
      assert.ok(await edge.stop('SIGTERM', 10_000), `stops within 10 s\n${edge.tail()}`);
      assert.deepEqual(await processesWith(dataDir), [], 'no worker is left running');
    } finally {
      if (!edge.hasExited) await edge.stop('SIGKILL', 5_000);
      for (const pid of await processesWith(dataDir)) process.kill(pid, 'SIGKILL');
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  },
);

test(
  'an edge with --workers 2 whose admin port is taken exits 1, reason printed once',
  { timeout: 120_000 },
  async () => {
    const pg = await startPostgres();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    const dataDir = await tempDir('clifix-workers-');
    const edge = new SpawnedProcess(
      'edge',
      process.execPath,
      [
        ...[CLI, 'edge', '--workers', '2', '--data-dir', dataDir, '--store', pg.connectionString],
        ...['--tunnel-listen', '127.0.0.1:0', '--admin-listen', `127.0.0.1:${taken}`],
      ],
      { POSTERN_LOG_LEVEL: 'warn', POSTERN_ADMIN_TOKEN: '' },
    );
    try {
      const exit = await Promise.race([
        edge.exited,
        new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 30_000).unref()),
      ]);
      assert.notEqual(exit, 'hung', `the edge did not exit within 30 s\n${edge.tail()}`);
      assert.deepEqual(exit, { code: 1, signal: null }, edge.tail());
      const reasons = edge.lines.filter((l) => l.text.includes('POSTERN_ERR_LISTEN_FAILED'));
      assert.equal(reasons.length, 1, `printed once, not once per worker\n${edge.tail()}`);
      assert.match(reasons[0]?.text ?? '', new RegExp(`^postern: .*127\\.0\\.0\\.1:${taken}`));
      assert.deepEqual(await processesWith(dataDir), [], 'no worker is left running');
    } finally {
      if (!edge.hasExited) await edge.stop('SIGKILL', 5_000);
      for (const pid of await processesWith(dataDir)) process.kill(pid, 'SIGKILL');
      holder.close();
      await pg.stop();
    }
  },
);

test(
  "an edge with --workers 2 replaces a crashed edge's left-over Konnectivity socket and serves on it",
  { timeout: 120_000 },
  async () => {
    const pg = await startPostgres();
    const dataDir = await tempDir('workers-stale-socket-');
    const socketPath = `${dataDir}/konnectivity.sock`;
    // A process that dies without cleaning up leaves its socket file behind.
    const crashed = new SpawnedProcess('holder', process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('listening'))`,
    ]);
    await crashed.waitFor((l) => l.text.includes('listening'), {
      timeoutMs: 10_000,
      what: 'the holder listening',
    });
    await crashed.stop('SIGKILL', 5_000);
    const edge = new SpawnedProcess(
      'edge',
      process.execPath,
      [
        ...[CLI, 'edge', '--workers', '2', '--data-dir', dataDir, '--store', pg.connectionString],
        ...['--tunnel-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'],
        ...['--konnectivity-uds', socketPath],
      ],
      { POSTERN_LOG_LEVEL: 'warn', POSTERN_ADMIN_TOKEN: '' },
    );
    try {
      await edge.waitFor((l) => l.text.startsWith('postern edge ready'), {
        timeoutMs: 30_000,
        what: 'the ready line',
      });
      assert.ok(
        !edge.lines.some((l) => /Deprecation|deprecated/.test(l.text)),
        `no deprecation warning\n${edge.tail()}`,
      );
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect({ path: socketPath });
        let text = '';
        socket.on('connect', () => socket.write('CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n'));
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 \d{3} /, `the frontend answers on the socket: ${answer}`);
    } finally {
      await edge.stop('SIGTERM', 20_000);
      for (const pid of await processesWith(dataDir)) process.kill(pid, 'SIGKILL');
      await pg.stop();
    }
  },
);
