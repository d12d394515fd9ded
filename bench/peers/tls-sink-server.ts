// Child process of the tls-tunnel suite: two TLS servers on 127.0.0.1, one plain (each
// connection is a sink) and one running a MuxSession as yamux server (each stream is a sink).
// A sink reads an 8-byte length, discards that many bytes, then answers "<byte count>\n" and
// ends its side (see sendBulk / receiveBulk).
// Reads one JSON line on stdin ({ cert, key, ciphers, session }), prints one JSON line
// ({ plainPort, muxPort }) on stdout, and exits when stdin closes.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import { createServer } from 'node:tls';
import type { Server, TLSSocket } from 'node:tls';
import { MuxSession } from '../../src/tunnel/index.js';
import type { MuxStream, SessionOptions } from '../../src/tunnel/index.js';
import { receiveBulk } from '../lib/bulk.js';

/** What the parent sends on stdin. */
export interface SinkServerConfig {
  cert: string;
  key: string;
  ciphers: string;
  session: Partial<Omit<SessionOptions, 'role'>>;
}

/** What the child prints once both servers listen. */
export interface SinkServerReady {
  plainPort: number;
  muxPort: number;
}

function sink(stream: Duplex): void {
  stream.on('error', () => {});
  receiveBulk(stream).then(
    (bytes) => stream.end(`${bytes}\n`),
    () => stream.destroy(),
  );
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  const [first] = (await once(lines, 'line')) as [string];
  const config = JSON.parse(first) as SinkServerConfig;
  const tlsOptions = {
    cert: config.cert,
    key: config.key,
    minVersion: 'TLSv1.3' as const,
    ciphers: config.ciphers,
  };
  const plain = createServer(tlsOptions, (socket) => sink(socket));
  const mux = createServer(tlsOptions, (socket: TLSSocket) => {
    socket.on('error', () => {});
    const session = new MuxSession(socket, { ...config.session, role: 'server' });
    session.on('error', () => {});
    session.on('stream', (stream: MuxStream) => sink(stream));
  });
  const ready: SinkServerReady = { plainPort: await listen(plain), muxPort: await listen(mux) };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  // The parent owns this process: when its end of stdin closes, stop.
  lines.on('close', () => process.exit(0));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
