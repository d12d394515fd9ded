import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { after, before, test, type TestContext } from 'node:test';
import type { DialRequest } from './dialer.js';
import { trafficErrors } from './errors.js';
import { Pool } from './pool.js';
import { TcpVirtualServer, type TcpSessionRecord } from './tcp-virtual-server.js';
import { deadAddress } from './http/test-kit.js';
import { until } from './test-pool-events.js';
import { RecordingDialer } from './test-recording-dialer.js';

let live: net.Server;
let liveAddress: string;
let deadA: string;
let deadB: string;

before(async () => {
  live = net.createServer((socket) => socket.pipe(socket));
  live.listen(0, '127.0.0.1');
  await once(live, 'listening');
  liveAddress = `127.0.0.1:${(live.address() as net.AddressInfo).port}`;
  deadA = await deadAddress();
  deadB = await deadAddress();
});
after(async () => {
  await new Promise<void>((resolve) => live.close(() => resolve()));
});

/** Starts a virtual server over round-robin `nodes` (picked in the order given). */
async function startServer(t: TestContext, nodes: string[], retries: number) {
  const dialer = new RecordingDialer();
  const pool = new Pool({
    name: 'svc',
    algorithm: 'round_robin',
    nodes: nodes.map((address) => ({ address, weight: 1, state: 'active' as const })),
    passiveHealth: false,
  });
  pool.start();
  const ended: TcpSessionRecord[] = [];
  const server = new TcpVirtualServer({
    name: 'vs',
    listen: { host: '127.0.0.1', port: 0 },
    pool,
    dialer,
    retries,
    connectTimeoutMs: 2_000,
    onSessionEnd: (r) => ended.push(r),
  });
  await server.start();
  t.after(() => server.close({ drainTimeoutMs: 0 }));
  return { dialer, ended, address: server.address() };
}

/** Sends `text` through the virtual server and returns what came back before the connection closed. */
async function exchange(address: { host: string; port: number }, text: string): Promise<string> {
  const socket = net.connect(address.port, address.host);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  // A refused session may end in a reset (the unread request is discarded), so wait for
  // 'close' itself rather than once(), which rejects on 'error'.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.end(text);
  await closed;
  return received;
}

test('with retries 0 a refused dial is not retried: the client is closed and the refusal recorded', async (t) => {
  const { dialer, ended, address } = await startServer(t, [deadA, liveAddress], 0);
  assert.equal(await exchange(address, 'ping'), '');
  await until(() => ended.length === 1, 'the session to end');
  assert.deepEqual(dialer.dials, [deadA]);
  assert.equal(ended[0]!.closeReason, 'POSTERN_ERR_DIAL_REFUSED');
  assert.equal(ended[0]!.node, undefined);
  assert.deepEqual(ended[0]!.failedNodes, {
    nodes: [{ node: deadA, error: 'POSTERN_ERR_DIAL_REFUSED' }],
    more: 0,
  });
});

test('with retries 2 a session passes two refusing nodes and reaches the live one, each tried once', async (t) => {
  const { dialer, ended, address } = await startServer(t, [deadA, deadB, liveAddress], 2);
  assert.equal(await exchange(address, 'ping'), 'ping');
  await until(() => ended.length === 1, 'the session to end');
  assert.deepEqual(dialer.dials, [deadA, deadB, liveAddress]);
  assert.equal(new Set(dialer.dials).size, dialer.dials.length);
  assert.equal(ended[0]!.node, liveAddress);
  assert.equal(ended[0]!.closeReason, 'closed');
  assert.equal(ended[0]!.failedNodes, undefined, 'a session that reached a node lists no failures');
});

test('with retries 1 a session gives up after two refusing nodes without reaching the third', async (t) => {
  const { dialer, ended, address } = await startServer(t, [deadA, deadB, liveAddress], 1);
  assert.equal(await exchange(address, 'ping'), '');
  await until(() => ended.length === 1, 'the session to end');
  assert.deepEqual(dialer.dials, [deadA, deadB]);
  assert.equal(ended[0]!.closeReason, 'POSTERN_ERR_DIAL_REFUSED');
  assert.deepEqual(ended[0]!.failedNodes, {
    nodes: [
      { node: deadA, error: 'POSTERN_ERR_DIAL_REFUSED' },
      { node: deadB, error: 'POSTERN_ERR_DIAL_REFUSED' },
    ],
    more: 0,
  });
});

test('retries never dial a node twice, even when they outnumber the nodes', async (t) => {
  const { dialer, ended, address } = await startServer(t, [deadA, deadB], 5);
  assert.equal(await exchange(address, 'ping'), '');
  await until(() => ended.length === 1, 'the session to end');
  assert.deepEqual(dialer.dials, [deadA, deadB]);
  assert.equal(ended[0]!.closeReason, 'POSTERN_ERR_DIAL_REFUSED');
});

test('when every node fails in different ways, the record names each node with its own reason', async (t) => {
  // deadA refuses for real; the second node's dial times out (a scripted dialer: a real
  // connect timeout needs an unroutable address, which loopback tests must not use).
  const dialer = new RecordingDialer();
  const dials: string[] = [];
  const slowSecond = {
    dial: (request: DialRequest) => {
      dials.push(request.address);
      if (request.address !== deadB) return dialer.dial(request);
      return Promise.reject(trafficErrors.dialTimeout(request.address, ''));
    },
  };
  const pool = new Pool({
    name: 'svc',
    algorithm: 'round_robin',
    nodes: [deadA, deadB].map((address) => ({ address, weight: 1, state: 'active' as const })),
    passiveHealth: false,
  });
  const ended: TcpSessionRecord[] = [];
  const server = new TcpVirtualServer({
    name: 'vs',
    listen: { host: '127.0.0.1', port: 0 },
    pool,
    dialer: slowSecond,
    retries: 3,
    onSessionEnd: (r) => ended.push(r),
  });
  await server.start();
  t.after(() => server.close({ drainTimeoutMs: 0 }));
  assert.equal(await exchange(server.address(), 'ping'), '');
  await until(() => ended.length === 1, 'the session to end');
  assert.deepEqual(dials, [deadA, deadB]);
  assert.equal(ended[0]!.closeReason, 'POSTERN_ERR_DIAL_TIMEOUT');
  assert.deepEqual(ended[0]!.failedNodes, {
    nodes: [
      { node: deadA, error: 'POSTERN_ERR_DIAL_REFUSED' },
      { node: deadB, error: 'POSTERN_ERR_DIAL_TIMEOUT' },
    ],
    more: 0,
  });
});
