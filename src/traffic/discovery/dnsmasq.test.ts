// Discovery against a real DNS server: Debian's dnsmasq (package dnsmasq-base, installed by
// scripts/setup-test-host.sh), authoritative for `.test`, serving A records from a hosts file
// the test rewrites and reloads with SIGHUP.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeClock } from '../../core/index.js';
import { Pool } from '../pool.js';
import { poolEvents, until } from '../test-pool-events.js';

let dir: string;
let hosts: string;
let port: number;
let dnsmasq: ChildProcess;
let log = '';

/** A port free for both UDP and TCP on 127.0.0.1: dnsmasq binds both. */
async function freeUdpPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const { port: free } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const tcp = net.createServer();
    const tcpFree = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(free, '127.0.0.1', () => resolve(true));
    });
    if (tcpFree) {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      return free;
    }
  }
  throw new Error('no port free for both UDP and TCP after 20 tries');
}

/** Rewrites the hosts file and makes dnsmasq re-read it, waiting until it says it did. */
async function serve(lines: string[]): Promise<void> {
  const reads = (log.match(/read .*hosts/g) ?? []).length;
  writeFileSync(hosts, lines.map((l) => `${l}\n`).join(''));
  dnsmasq.kill('SIGHUP');
  await until(
    () => (log.match(/read .*hosts/g) ?? []).length > reads,
    'dnsmasq to reload its hosts',
  );
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'postern-dnsmasq-'));
  chmodSync(dir, 0o755);
  hosts = join(dir, 'hosts');
  writeFileSync(hosts, '10.9.0.1 web.test\n');
  port = await freeUdpPort();
  dnsmasq = spawn(
    'dnsmasq',
    [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${hosts}`,
      '--local=/test/',
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--port=${port}`,
      '--local-ttl=1',
      '--pid-file=',
      '--log-facility=-',
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const collect = (chunk: Buffer) => (log += chunk.toString());
  dnsmasq.stdout?.on('data', collect);
  dnsmasq.stderr?.on('data', collect);
  await until(() => /read .*hosts/.test(log) || dnsmasq.exitCode !== null, 'dnsmasq to start');
  assert.equal(dnsmasq.exitCode, null, `dnsmasq did not start: ${log}`);
});

after(async () => {
  const exited = once(dnsmasq, 'exit');
  dnsmasq.kill('SIGTERM');
  await exited;
  rmSync(dir, { recursive: true, force: true });
});

test('a pool follows dnsmasq as records are added, removed and all gone', async () => {
  const clock = new FakeClock();
  const recorder = poolEvents();
  const pool = Pool.fromConfig(
    {
      name: 'web',
      discovery: {
        dns: {
          name: 'web.test',
          port: 8080,
          type: 'A',
          min_interval_ms: 0,
          resolver: `127.0.0.1:${port}`,
        },
      },
    },
    { clock, onEvent: recorder.onEvent },
  );
  pool.start();
  assert.deepEqual((await recorder.next('discovery')).added, ['10.9.0.1:8080']);
  assert.equal(pool.status().discovery?.nextRefreshAt, clock.now() + 1_000);

  const held = pool.pick();
  await serve(['10.9.0.2 web.test', '10.9.0.3 web.test']);
  clock.advance(1_000);
  const change = await recorder.next('discovery');
  assert.deepEqual(
    [change.added, change.removed],
    [['10.9.0.2:8080', '10.9.0.3:8080'], ['10.9.0.1:8080']],
  );
  const addresses = new Set([pool.pick(), pool.pick(), pool.pick()].map((p) => p.node.address));
  assert.deepEqual(addresses, new Set(['10.9.0.2:8080', '10.9.0.3:8080']));
  assert.equal(pool.status().nodes.find((n) => n.address === '10.9.0.1:8080')?.removed, true);
  held.done({ ok: true });

  await serve([]);
  clock.advance(1_000);
  assert.deepEqual((await recorder.next('discovery')).removed.length, 2);
  assert.throws(() => pool.pick(), { code: 'POSTERN_ERR_POOL_EMPTY' });
  pool.close();
});
