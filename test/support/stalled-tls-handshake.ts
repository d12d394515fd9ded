import { once } from 'node:events';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

/**
 * A TLS client (Node's) whose handshake never finishes: its ClientHello reaches `port` on
 * 127.0.0.1 and the server's answer never reaches it (it is read and dropped, so that the
 * server's close of the connection is seen). Resolves with the TCP connection under it once the
 * server answered, that is, once the server waits for the client's Finished.
 */
export async function stalledTlsHandshake(port: number): Promise<net.Socket> {
  const tcp = net.connect({ host: '127.0.0.1', port });
  tcp.on('error', () => undefined);
  await once(tcp, 'connect');
  const answered = once(tcp, 'data');
  tcp.resume();
  let hello = true;
  const gate = new Duplex({
    read: () => undefined,
    write: (chunk: Buffer, _encoding, done) => {
      if (hello) tcp.write(chunk);
      hello = false;
      done();
    },
  });
  const client = tls.connect({ socket: gate, servername: 'localhost', rejectUnauthorized: false });
  client.on('error', () => undefined);
  tcp.once('close', () => client.destroy());
  await answered;
  return tcp;
}
