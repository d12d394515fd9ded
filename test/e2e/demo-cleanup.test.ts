// `postern demo` keeps a CA key, a signing key and an admin token in a temporary directory: it
// must remove it, and close every server it started, whether start-up fails, a signal comes
// during start-up, or the demo is stopped normally.
import assert from 'node:assert/strict';
import net from 'node:net';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { freePort } from '../harness/harness.js';
import { runCommand } from './support/run-command.js';
import { SpawnedProcess } from './support/spawned-process.js';
import { tempDirsRemovedAfter } from './support/temp-dirs.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Temporary directories, removed after the tests. */
const tempDir = tempDirsRemovedAfter();

async function demoArgs(): Promise<string[]> {
  return [
    ...[CLI, 'demo', '--listen', `127.0.0.1:${await freePort()}`],
    ...['--access-listen', `127.0.0.1:${await freePort()}`],
    ...['--https-listen', `127.0.0.1:${await freePort()}`],
  ];
}

/** Waits (bounded) until `dir` has an entry; the demo's temporary directory appeared. */
async function untilNotEmpty(dir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readdir(dir)).length === 0) {
    if (Date.now() > deadline) throw new Error(`nothing appeared in ${dir} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test(
  'a demo port that is taken ends the demo with exit 1, one line, and nothing left behind',
  { timeout: 60_000 },
  async () => {
    const tmp = await tempDir('clifix-demo-tmp-');
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      const args = await demoArgs();
      args[args.indexOf('--https-listen') + 1] = `127.0.0.1:${taken}`;
      const result = await runCommand(process.execPath, args, {
        timeoutMs: 30_000,
        env: { TMPDIR: tmp },
      });
      assert.equal(result.code, 1, `exit 1, not a hang:\n${result.stderr}`);
      assert.match(
        result.stderr,
        new RegExp(`^postern: .*127\\.0\\.0\\.1:${taken}.*POSTERN_ERR_LISTEN_FAILED`, 'm'),
      );
      assert.doesNotMatch(result.stderr, /^\s+at /m);
      assert.deepEqual(
        await readdir(tmp),
        [],
        'the temporary directory (CA key, tokens) is removed',
      );
    } finally {
      holder.close();
    }
  },
);

test(
  'SIGTERM during the demo start-up removes its temporary directory',
  { timeout: 60_000 },
  async () => {
    const tmp = await tempDir('clifix-demo-tmp-');
    const demo = new SpawnedProcess('demo', process.execPath, await demoArgs(), { TMPDIR: tmp });
    try {
      await untilNotEmpty(tmp, 20_000);
      assert.ok(await demo.stop('SIGTERM', 20_000), `the demo stops\n${demo.tail()}`);
      assert.deepEqual(await readdir(tmp), [], `nothing left behind\n${demo.tail()}`);
    } finally {
      if (!demo.hasExited) await demo.stop('SIGKILL', 5_000);
    }
  },
);

test(
  'SIGINT to a running demo closes its servers, removes its directory and exits 0',
  { timeout: 90_000 },
  async () => {
    const tmp = await tempDir('clifix-demo-tmp-');
    const args = await demoArgs();
    const demo = new SpawnedProcess('demo', process.execPath, args, { TMPDIR: tmp });
    try {
      await demo.waitFor((l) => l.text.startsWith('Press Ctrl-C'), {
        timeoutMs: 60_000,
        what: 'the demo to be up',
      });
      const app = demo.lines.find((l) => l.text.includes('private app'))?.text ?? '';
      assert.match(app, /the virtual server reaches it through the connector's tunnel/);
      assert.ok(await demo.stop('SIGINT', 20_000), `the demo stops\n${demo.tail()}`);
      assert.equal((await demo.exited).code, 0);
      assert.deepEqual(await readdir(tmp), [], 'the temporary directory is removed');
      const listen = args[args.indexOf('--listen') + 1] ?? '';
      const refused = await new Promise<boolean>((resolve) => {
        const socket = net.connect(Number(listen.split(':')[1]), '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('error', () => resolve(true));
      });
      assert.ok(refused, 'the virtual server is closed');
    } finally {
      if (!demo.hasExited) await demo.stop('SIGKILL', 5_000);
    }
  },
);
