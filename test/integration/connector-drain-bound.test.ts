// A connector's --drain-timeout bounds its whole stop: sessions still open when it ends are cut
// (and their clients reset), so a pod's terminationGracePeriodSeconds only needs to exceed it.
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { startTestConnector, startTestEdge } from '../harness/harness.js';

test(
  'stop with a 500 ms drain returns within about a second and cuts the session left open',
  { timeout: 30_000 },
  async () => {
    // An application that keeps every connection open and answers each byte.
    const app = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (d: Buffer) => socket.write(d));
    });
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    const edge = await startTestEdge();
    const key = await edge.createKey('drain-bound');
    const connector = await startTestConnector({ provisionKey: key.value });
    try {
      const port = await edge.publish(
        'long',
        'drain-bound',
        `127.0.0.1:${(app.address() as net.AddressInfo).port}`,
      );
      const client = net.connect(port, '127.0.0.1');
      await once(client, 'connect');
      client.write('x');
      await once(client, 'data');
      const ended = new Promise<string>((resolve) => {
        client.once('end', () => resolve('end'));
        client.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
        client.once('close', () => resolve('close'));
      });
      const started = Date.now();
      await connector.stop({ drainTimeoutMs: 500 });
      const took = Date.now() - started;
      assert.ok(took >= 450, `it waited for the drain (${took} ms)`);
      assert.ok(took < 3000, `then cut the session instead of waiting 30 s more (${took} ms)`);
      assert.equal(await ended, 'ECONNRESET', 'the client was reset, not ended as if complete');
    } finally {
      await connector.stop().catch(() => undefined);
      await edge.stop();
      app.close();
    }
  },
);
