import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { joinStreams } from './join-streams.js';

/** A TCP client and the server's side of its connection. */
async function tcpPair(): Promise<{ client: net.Socket; served: net.Socket; close: () => void }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [served] = (await once(server, 'connection')) as [net.Socket];
  await once(client, 'connect');
  return { client, served, close: () => server.close() };
}

/** A stand-in for the far side (a tunnel stream): sends what it is told, records what it gets. */
function farSide(): Duplex & { received: Buffer[] } {
  const received: Buffer[] = [];
  const side = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk);
      callback();
    },
  });
  return Object.assign(side, { received });
}

/** How the client's side ended: a clean end (FIN) or a reset. */
function ending(client: net.Socket): Promise<{ bytes: number; how: string }> {
  return new Promise((resolve) => {
    let bytes = 0;
    client.on('data', (chunk: Buffer) => (bytes += chunk.length));
    client.once('end', () => resolve({ bytes, how: 'end' }));
    client.once('error', (err: NodeJS.ErrnoException) =>
      resolve({ bytes, how: err.code ?? 'error' }),
    );
  });
}

test(
  'a far side that fails mid-stream resets the TCP client: a cut stream never looks finished',
  { timeout: 10_000 },
  async () => {
    const { client, served, close } = await tcpPair();
    const far = farSide();
    const closed = new Promise<string>((resolve) => joinStreams(served, far, resolve));
    const how = ending(client);
    far.push(Buffer.alloc(1000, 1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    far.destroy(Object.assign(new Error('tunnel gone'), { code: 'POSTERN_ERR_TUNNEL_TRANSPORT' }));
    assert.deepEqual(await how, { bytes: 1000, how: 'ECONNRESET' });
    assert.equal(await closed, 'POSTERN_ERR_TUNNEL_TRANSPORT');
    client.destroy();
    close();
  },
);

test(
  'a far side that ends cleanly ends the TCP client with a FIN after every byte',
  { timeout: 10_000 },
  async () => {
    const { client, served, close } = await tcpPair();
    const far = farSide();
    const closed = new Promise<string>((resolve) => joinStreams(served, far, resolve));
    const how = ending(client);
    far.push(Buffer.alloc(1000, 1));
    far.push(null);
    assert.deepEqual(await how, { bytes: 1000, how: 'end' });
    client.end();
    far.end();
    assert.equal(await closed, 'closed');
    close();
  },
);
