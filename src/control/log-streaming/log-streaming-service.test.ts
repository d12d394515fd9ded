import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { logReceiverSchema } from '../../config/index.js';
import { LogStreamingService } from './log-streaming-service.js';
import type { ReceiverSpec } from './receiver-sink.js';

/** A loopback line receiver in this process: collects what each connection sent. */
async function lineServer(port = 0) {
  const connections: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const index = connections.push('') - 1;
    sockets.add(socket);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (connections[index] += d));
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port }, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    lines: () => connections.join('').split('\n').filter(Boolean),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = await lineServer();
  await s.close();
  return s.port;
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const spec = (name: string, port: number, extra: object = {}): ReceiverSpec =>
  logReceiverSchema.parse({ name, address: `127.0.0.1:${port}`, ...extra });

function service(spoolDir: string) {
  return new LogStreamingService({
    spoolDir,
    logger: pino({ level: 'silent' }),
    backoff: { initialMs: 20, factor: 1.5, maxMs: 100, jitter: 0.2 },
    connectTimeoutMs: 2000,
  });
}

const numbers = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { n: number }).n);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('adding, changing and removing other receivers keeps the queue of an unchanged one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-logs-svc-'));
  const port = await closedPort();
  const other = await lineServer();
  const logs = service(dir);
  try {
    logs.configure([spec('kept', port), spec('gone', port)]);
    for (const n of range(30)) logs.publish('audit', { n });
    logs.configure([spec('kept', port, { description: 'changed text' }), spec('new', other.port)]);
    assert.equal(logs.status().find((s) => s.name === 'kept')?.memoryRecords, 30);
    assert.equal(existsSync(join(dir, 'gone')), false, 'the removed receiver spool is deleted');
    const metrics = await logs.metrics.registry.metrics();
    assert.match(metrics, /dropped_total\{receiver="gone",reason="removed"\} 30/);
    const back = await lineServer(port);
    try {
      await until(() => back.lines().length >= 30, 'the kept backlog');
      assert.deepEqual(numbers(back.lines()), range(30));
      assert.equal(other.lines().length, 0, 'a new receiver gets only records published after it');
    } finally {
      await back.close();
    }
  } finally {
    await logs.close({ flushTimeoutMs: 0 });
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a clean stop keeps the backlog on disk and the next start delivers it first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-logs-svc-'));
  const port = await closedPort();
  const first = service(dir);
  first.configure([spec('siem', port, { buffer: { memory_records: 10 } })]);
  for (const n of range(25)) first.publish('audit', { n });
  await first.close({ flushTimeoutMs: 50 });
  const receiver = await lineServer(port);
  const second = service(dir);
  try {
    second.configure([spec('siem', port, { buffer: { memory_records: 10 } })]);
    second.publish('audit', { n: 25 });
    await until(() => receiver.lines().length >= 26, 'the spooled records and the new one');
    assert.deepEqual(numbers(receiver.lines()), range(26));
  } finally {
    await second.close({ flushTimeoutMs: 0 });
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a format change reconnects and a CSV receiver gets a header on each connection', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-logs-svc-'));
  const receiver = await lineServer();
  const logs = service(dir);
  try {
    logs.configure([spec('siem', receiver.port, { log_types: ['user_status'] })]);
    logs.publish('user_status', { user: 'ann', action: 'login', outcome: 'ok' });
    await until(() => receiver.lines().length === 1, 'the JSON line');
    logs.configure([spec('siem', receiver.port, { log_types: ['user_status'], format: 'csv' })]);
    logs.publish('user_status', { time: 'T', user: 'bob', action: 'logout', outcome: 'ok' });
    await until(
      () => receiver.connections.length === 2 && receiver.connections[1]!.length > 0,
      'csv',
    );
    await until(() => receiver.connections[1]!.split('\n').length >= 3, 'the CSV row');
    assert.equal(
      receiver.connections[1],
      'time,user,idp,client_ip,action,outcome,reason\nT,bob,,,logout,ok,\n',
    );
    assert.equal((JSON.parse(receiver.connections[0]!) as { user: string }).user, 'ann');
  } finally {
    await logs.close({ flushTimeoutMs: 0 });
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('publishing an unknown log type is a coded error', () => {
  const logs = service(join(tmpdir(), 'postern-logs-unused'));
  assert.throws(
    () => logs.publish('nope' as 'audit', {}),
    (err: { code: string }) => err.code === 'POSTERN_ERR_LOG_TYPE_UNKNOWN',
  );
});
