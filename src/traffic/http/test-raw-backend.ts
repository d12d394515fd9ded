// Test support: a TCP backend that records raw bytes, for what a Node HTTP server would hide.
import net from 'node:net';

/** A TCP backend on 127.0.0.1 that logs every byte it receives. */
export interface RawBackend {
  readonly address: string;
  /** Everything received, per connection, in order. */
  readonly received: string[];
  close(): Promise<void>;
}

/**
 * Starts a raw backend; on each connection, `reply` sees everything received so far and returns
 * the bytes to answer once (latin1), or undefined to wait for more.
 */
export async function startRawBackend(
  reply: (received: string) => string | undefined,
): Promise<RawBackend> {
  const received: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const index = received.push('') - 1;
    let answered = false;
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (c: Buffer) => {
      received[index] += c.toString('latin1');
      const out = answered ? undefined : reply(received[index] as string);
      if (out === undefined) return;
      answered = true;
      socket.write(out, 'latin1');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
