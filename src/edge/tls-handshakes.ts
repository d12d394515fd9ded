import type net from 'node:net';
import type tls from 'node:tls';

/**
 * The connections of a TLS server that have not finished their handshake. Node's HTTP layer
 * learns of a connection only once its handshake is done, so `closeAllConnections()` leaves these
 * open and `close()` waits for them until the handshake timeout; a drain that must end at its
 * deadline cuts them here.
 */
export class TlsHandshakes {
  /** The raw sockets still in their handshake, by the client's address and port. */
  readonly #pending = new Map<string, net.Socket>();

  constructor(server: tls.Server) {
    server.on('connection', (socket: net.Socket) => {
      const key = clientOf(socket);
      // Gone before it was seen: nothing to cut.
      if (key === undefined) return;
      this.#pending.set(key, socket);
      socket.once('close', () => {
        if (this.#pending.get(key) === socket) this.#pending.delete(key);
      });
    });
    // Node hands the raw socket to the TLS socket it wraps without a public link between the
    // two; the client's address and port name one open TCP connection of the listener.
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      const key = clientOf(socket);
      if (key !== undefined) this.#pending.delete(key);
    });
  }

  /** Closes every connection still in its handshake. */
  cutAll(): void {
    for (const socket of [...this.#pending.values()]) socket.destroy();
  }
}

function clientOf(socket: net.Socket): string | undefined {
  const { remoteAddress, remotePort } = socket;
  if (remoteAddress === undefined || remotePort === undefined) return undefined;
  return `${remoteAddress}|${remotePort}`;
}
