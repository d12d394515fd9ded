import { once } from 'node:events';
import net from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Connects to 127.0.0.1:`port` once; resolves with the socket or rejects on error. */
export function connectTo(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Sends `payload` and resolves when as many bytes came back (an echo round trip). */
export function echoOnce(socket: net.Socket, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const done = (err?: Error): void => {
      socket.off('data', onData);
      socket.off('error', done);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received >= payload.length) done();
    };
    const onClose = (): void => done(new Error(`closed after ${received} echoed bytes`));
    socket.on('data', onData);
    socket.once('error', done);
    socket.once('close', onClose);
    socket.write(payload);
  });
}

/**
 * Retries an echo round trip on 127.0.0.1:`port` until one succeeds or `timeoutMs` passes:
 * the whole path (listener, tunnel, private app) is then ready.
 */
export async function waitForEcho(
  port: number,
  options: { timeoutMs: number; what: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
    try {
      const socket = await connectTo(port);
      // A path that accepts but never answers must not stall the wait past its deadline.
      socket.setTimeout(1000, () => socket.destroy(new Error('no echo within 1 s')));
      try {
        await echoOnce(socket, Buffer.from('ready?'));
        return;
      } finally {
        socket.destroy();
      }
    } catch (err) {
      last = err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(
    `${options.what}: no echo on 127.0.0.1:${port} within ${options.timeoutMs} ms (${String(last)})`,
  );
}

/** Retries a bare TCP connect to 127.0.0.1:`port` until it is accepted or `timeoutMs` passes. */
export async function waitForListen(
  port: number,
  options: { timeoutMs: number; what: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
    try {
      (await connectTo(port)).destroy();
      return;
    } catch (err) {
      last = err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(
    `${options.what}: 127.0.0.1:${port} not accepting within ${options.timeoutMs} ms (${String(last)})`,
  );
}
