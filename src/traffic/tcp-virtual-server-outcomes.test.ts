import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { TestBackend } from './health/test-backend.js';
import { Pool } from './pool.js';
import { TcpVirtualServer, type TcpSessionRecord } from './tcp-virtual-server.js';
import { until } from './test-pool-events.js';
import { RecordingDialer } from './test-recording-dialer.js';

let good: TestBackend;
let dead: TestBackend;
before(async () => {
  good = await TestBackend.start();
  dead = await TestBackend.start();
  await dead.down();
});
after(async () => {
  await good.down();
});

/** Opens a client connection through the virtual server, sends a request and reads the answer. */
async function request(address: { host: string; port: number }): Promise<string> {
  const socket = net.connect(address.port, address.host);
  await once(socket, 'connect');
  socket.end('GET / HTTP/1.0\r\n\r\n');
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await once(socket, 'close');
  return text;
}

test('a TCP virtual server reports dial failures so a refusing node gets ejected', async (t) => {
  const dialer = new RecordingDialer();
  const pool = new Pool({
    name: 'web',
    nodes: [
      { address: dead.address, weight: 1, state: 'active' },
      { address: good.address, weight: 1, state: 'active' },
    ],
    passiveHealth: { failures: 2, on5xx: false, ejectMs: 60_000 },
  });
  pool.start();
  const ended: TcpSessionRecord[] = [];
  const server = new TcpVirtualServer({
    name: 'vs',
    listen: { host: '127.0.0.1', port: 0 },
    pool,
    dialer,
    onSessionEnd: (r) => ended.push(r),
  });
  await server.start();
  t.after(() => server.close({ drainTimeoutMs: 0 }));
  for (let i = 0; i < 6; i++) assert.match(await request(server.address()), /^HTTP\/1\.1 200/);
  await until(() => ended.length === 6, 'six sessions to end');
  assert.equal(dialer.dials.filter((a) => a === dead.address).length, 2);
  const [deadStatus, goodStatus] = pool.status().nodes;
  assert.deepEqual(
    [deadStatus!.health, deadStatus!.failures, deadStatus!.lastError],
    ['down', 2, 'POSTERN_ERR_DIAL_REFUSED'],
  );
  assert.equal(goodStatus!.picks, 6);
  assert.equal(goodStatus!.activeConnections, 0);
  assert.ok(goodStatus!.avgResponseMs !== undefined && goodStatus!.avgResponseMs < 1_000);
});

test('sessions still open when a closing server’s drain time runs out are cut with close reason drain_timeout', async () => {
  // An echo node that never ends a session itself.
  const echo = net.createServer((s) => {
    s.on('error', () => undefined); // the cut resets it
    s.pipe(s);
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  const { port: echoPort } = echo.address() as net.AddressInfo;
  const pool = new Pool({
    name: 'echo',
    nodes: [{ address: `127.0.0.1:${echoPort}`, weight: 1, state: 'active' }],
  });
  pool.start();
  const ended: TcpSessionRecord[] = [];
  const server = new TcpVirtualServer({
    name: 'vs',
    listen: { host: '127.0.0.1', port: 0 },
    pool,
    dialer: new RecordingDialer(),
    onSessionEnd: (r) => ended.push(r),
  });
  await server.start();
  try {
    const client = net.connect(server.address().port, '127.0.0.1');
    client.on('error', () => undefined);
    client.write('ping');
    await once(client, 'data');
    await server.close({ drainTimeoutMs: 100 });
    await once(client, 'close');
    await until(() => ended.length === 1, 'the session to end');
    assert.equal(ended[0]?.closeReason, 'drain_timeout');
  } finally {
    echo.close();
  }
});
