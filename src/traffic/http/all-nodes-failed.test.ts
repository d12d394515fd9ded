import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DirectDialer } from '../direct-dial.js';
import type { Dialer, DialRequest } from '../dialer.js';
import { trafficErrors } from '../errors.js';
import {
  deadAddress,
  ScriptedPool,
  send,
  startBackend,
  startProxy,
  waitFor,
  type Backend,
} from './test-kit.js';

/** A server that accepts the request, then closes without answering. */
async function startRude(): Promise<{ address: string; close(): Promise<void> }> {
  const server = net.createServer((s) => s.once('data', () => s.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Sends an Upgrade request over a raw socket and returns everything the proxy sent before closing. */
function upgrade(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let all = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`not closed in time; got ${all}`));
    }, 3000);
    socket.on('data', (c: Buffer) => (all += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(all);
    });
    socket.write(
      'GET /chat HTTP/1.1\r\nHost: chat.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
  });
}

describe('http virtual server when every node tried fails', () => {
  let deadA: string;
  let deadB: string;
  let good: Backend;

  before(async () => {
    deadA = await deadAddress();
    deadB = await deadAddress();
    good = await startBackend('good');
  });
  after(() => good.close());

  test('a GET refused by two nodes gets 502 naming both nodes, and the record lists both', async () => {
    const p = await startProxy({ pool: new ScriptedPool('web', [deadA, deadB]), retries: 2 });
    try {
      const res = await send(p.port);
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_DIAL_REFUSED');
      assert.equal(
        res.text,
        `POSTERN_ERR_DIAL_REFUSED: All 2 nodes tried for pool "web" failed: ` +
          `${deadA} refused the connection (POSTERN_ERR_DIAL_REFUSED), ` +
          `${deadB} refused the connection (POSTERN_ERR_DIAL_REFUSED). ` +
          `Check that the application on each node is running and listening on its port, ` +
          `and the pool's monitor and node status (GET /api/v1/pools/web).\n`,
      );
      await waitFor(() => p.records.length === 1);
      const record = p.records[0];
      assert.equal(record?.closeReason, 'POSTERN_ERR_DIAL_REFUSED');
      assert.equal(record?.attempts, 2);
      assert.deepEqual(record?.failedNodes, {
        nodes: [
          { node: deadA, error: 'POSTERN_ERR_DIAL_REFUSED' },
          { node: deadB, error: 'POSTERN_ERR_DIAL_REFUSED' },
        ],
        more: 0,
      });
    } finally {
      await p.close();
    }
  });

  test('a refusal then a reset before the response: 502 with the reset code, naming both fates', async () => {
    const rude = await startRude();
    const p = await startProxy({ pool: new ScriptedPool('web', [deadA, rude.address]) });
    try {
      const res = await send(p.port);
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_UPSTREAM_RESET');
      assert.match(
        res.text,
        new RegExp(
          `^POSTERN_ERR_UPSTREAM_RESET: All 2 nodes tried for pool "web" failed: ` +
            `${deadA} refused the connection \\(POSTERN_ERR_DIAL_REFUSED\\), ` +
            `${rude.address} closed the connection before responding \\(POSTERN_ERR_UPSTREAM_RESET\\)\\.`,
        ),
      );
      await waitFor(() => p.records.length === 1);
      assert.deepEqual(
        p.records[0]?.failedNodes?.nodes.map((n) => n.error),
        ['POSTERN_ERR_DIAL_REFUSED', 'POSTERN_ERR_UPSTREAM_RESET'],
      );
    } finally {
      await p.close();
      await rude.close();
    }
  });

  test('a refusal then a connect timeout: 504 with the timeout code, naming both nodes', async () => {
    // The second node's dial times out by script: a real connect timeout needs an unroutable address.
    const direct = new DirectDialer();
    const dialer: Dialer = {
      dial: (request: DialRequest) =>
        request.address === deadB
          ? Promise.reject(trafficErrors.dialTimeout(request.address, ''))
          : direct.dial(request),
    };
    const p = await startProxy({ pool: new ScriptedPool('web', [deadA, deadB]), dialer });
    try {
      const res = await send(p.port);
      assert.equal(res.status, 504);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_DIAL_TIMEOUT');
      assert.match(res.text, new RegExp(`${deadA} refused the connection`));
      assert.match(res.text, new RegExp(`${deadB} did not accept the connection in time`));
    } finally {
      await p.close();
    }
  });

  test('when the pool runs out of nodes after failures, the answer still names each one', async () => {
    // retries 5 outnumbers the two nodes: the third pick finds none left.
    const p = await startProxy({ pool: new ScriptedPool('web', [deadA, deadB]), retries: 5 });
    try {
      const res = await send(p.port);
      assert.equal(res.status, 502);
      assert.equal(res.headers['x-postern-error'], 'POSTERN_ERR_DIAL_REFUSED');
      assert.match(res.text, /All 2 nodes tried for pool "web" failed/);
    } finally {
      await p.close();
    }
  });

  test('a single failed node keeps its own message; a retry that succeeds lists no failures', async () => {
    const p = await startProxy({ pool: new ScriptedPool('web', [deadA]), retries: 0 });
    const q = await startProxy({ pool: new ScriptedPool('web', [deadA, good.address]) });
    try {
      const res = await send(p.port);
      assert.equal(res.status, 502);
      assert.match(
        res.text,
        new RegExp(`^POSTERN_ERR_DIAL_REFUSED: ${deadA} refused the connection`),
      );
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.failedNodes?.nodes.length, 1);
      assert.equal((await send(q.port)).status, 200);
      await waitFor(() => q.records.length === 1);
      assert.equal(q.records[0]?.failedNodes, undefined);
    } finally {
      await p.close();
      await q.close();
    }
  });

  test('an upgrade refused by two nodes gets 502 naming both, and the record lists both', async () => {
    const p = await startProxy({ pool: new ScriptedPool('ws', [deadA, deadB]) });
    try {
      const answer = await upgrade(p.port);
      assert.match(answer, /^HTTP\/1\.1 502 /);
      assert.match(answer, /X-Postern-Error: POSTERN_ERR_DIAL_REFUSED/);
      assert.match(answer, /All 2 nodes tried for pool "ws" failed/);
      assert.ok(answer.includes(`${deadA} refused`) && answer.includes(`${deadB} refused`));
      await waitFor(() => p.records.length === 1);
      assert.equal(p.records[0]?.upgrade, true);
      assert.equal(p.records[0]?.failedNodes?.nodes.length, 2);
    } finally {
      await p.close();
    }
  });
});
