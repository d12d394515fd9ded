import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { makeCertificate } from './tls/test-certificates.js';
import { readSocketDirectly, stopReadingSocketDirectly } from './direct-socket-reads.js';

/** A TCP client and the server's side of its connection, not read by anyone yet. */
async function tcpPair(): Promise<{ client: net.Socket; served: net.Socket; close: () => void }> {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [served] = (await once(server, 'connection')) as [net.Socket];
  await once(client, 'connect');
  return {
    client,
    served,
    close: () => {
      client.destroy();
      served.destroy();
      server.close();
    },
  };
}

/** Collects what a consumer is handed, and whether it came directly or as a 'data' event. */
function consumer() {
  const direct: Buffer[] = [];
  const events: Buffer[] = [];
  const all: Buffer[] = [];
  return {
    direct,
    events,
    onData: (chunk: Buffer): void => {
      direct.push(chunk);
      all.push(chunk);
    },
    /** The consumer's 'data' listener: whatever the Readable side emits. */
    listener: (chunk: Buffer): void => {
      events.push(chunk);
      all.push(chunk);
    },
    /** Everything handed over, in the order it came. */
    bytes: (): Buffer => Buffer.concat(all),
  };
}

/** A consumer reading `socket` as Http1Connection does: a 'data' listener, and directly. */
function readingConsumer(socket: net.Socket): ReturnType<typeof consumer> {
  const c = consumer();
  socket.on('data', c.listener);
  assert.equal(readSocketDirectly(socket, c.onData), true);
  socket.resume();
  return c;
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('an accepted TCP socket hands its reads to the consumer directly, not as data events', async () => {
  const { client, served, close } = await tcpPair();
  try {
    const c = consumer();
    served.on('data', c.listener);
    // Works on the Node version that runs Postern: a change in Node's internals fails here.
    assert.equal(readSocketDirectly(served, c.onData), true);
    served.resume();
    const payload = randomBytes(1 << 20);
    client.write(payload);
    await until(() => c.bytes().length === payload.length);
    assert.ok(c.bytes().equals(payload), 'the bytes arrive whole and in order');
    assert.ok(c.direct.length > 0, 'reads went straight to the consumer');
    assert.equal(c.events.length, 0, 'no read went through a data event');
    // The chunks are the consumer's: later reads into the shared buffer do not change them.
    const first = Buffer.from(c.direct[0] as Buffer);
    client.write(Buffer.alloc(1000, 7));
    await until(() => c.bytes().length === payload.length + 1000);
    assert.ok((c.direct[0] as Buffer).equals(first));
  } finally {
    close();
  }
});

test('a TLS socket accepted by a server reads directly too', async () => {
  const cert = await makeCertificate('reads.test', ['reads.test']);
  const server = tls.createServer({ cert: cert.cert, key: cert.key });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const c = consumer();
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    socket.on('data', c.listener);
    assert.equal(readSocketDirectly(socket, c.onData), true);
  });
  const client = tls.connect({
    port: (server.address() as net.AddressInfo).port,
    host: '127.0.0.1',
    servername: 'reads.test',
    rejectUnauthorized: false,
  });
  try {
    await once(client, 'secureConnect');
    const payload = randomBytes(200_000);
    client.write(payload);
    await until(() => c.bytes().length === payload.length);
    assert.ok(c.bytes().equals(payload));
    assert.equal(c.events.length, 0);
  } finally {
    client.destroy();
    server.close();
  }
});

test('a paused socket keeps what arrives, in order, and still sees its peer end', async () => {
  const { client, served, close } = await tcpPair();
  try {
    const c = readingConsumer(served);
    client.write('one,');
    await until(() => c.bytes().toString() === 'one,');
    served.pause();
    client.write('two,');
    client.end('three');
    // Paused, the socket reads on into its own buffer (as without direct reads), so it sees
    // the end: a server that paused a client it is done with still closes it.
    await until(() => served.readableLength === 'two,three'.length);
    assert.equal(c.bytes().toString(), 'one,');
    const ended = once(served, 'end');
    served.resume();
    await ended;
    assert.equal(c.bytes().toString(), 'one,two,three');
    assert.ok(c.events.length > 0, 'what waited came out through the data listener');
  } finally {
    close();
  }
});

test('after stopReadingSocketDirectly, reads go to the Readable side for the next owner', async () => {
  const { client, served, close } = await tcpPair();
  try {
    const c = readingConsumer(served);
    client.write('request');
    await until(() => c.bytes().toString() === 'request');
    // Handed over, e.g. after an Upgrade: the new owner reads with plain stream methods.
    served.off('data', c.listener);
    stopReadingSocketDirectly(served);
    const tunnel: Buffer[] = [];
    const owner = (chunk: Buffer): void => void tunnel.push(chunk);
    served.on('data', owner);
    client.write('tunnel bytes');
    await until(() => Buffer.concat(tunnel).toString() === 'tunnel bytes');
    assert.equal(c.bytes().toString(), 'request', 'the first consumer got nothing more');
    served.off('data', owner);
    served.pause();
    // Given back (a refused upgrade): bytes put back come first, then new reads, directly.
    served.unshift(Buffer.from('next '));
    const back = readingConsumer(served);
    await until(() => back.bytes().toString() === 'next ');
    client.write('request');
    await until(() => back.bytes().toString() === 'next request');
    assert.ok(back.direct.length > 0);
  } finally {
    close();
  }
});

test('a socket that cannot read into a given buffer is left as it is', async () => {
  const { client, served, close } = await tcpPair();
  try {
    // Opened with its own onread (as a dialed connection can be): not taken over.
    const own = new net.Socket({
      onread: { buffer: Buffer.alloc(16), callback: () => true },
    } as net.SocketConstructorOpts);
    assert.equal(
      readSocketDirectly(own, () => undefined),
      false,
    );
    own.destroy();
    served.destroy();
    await once(served, 'close');
    assert.equal(
      readSocketDirectly(served, () => undefined),
      false,
    );
    assert.ok(client);
  } finally {
    close();
  }
});
