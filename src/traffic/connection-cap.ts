import type net from 'node:net';

/** One client connection a virtual server closed on accept because it was at its cap. */
export interface ConnectionRefusal {
  readonly virtualServer: string;
  /** The cap in force (`max_connections`). */
  readonly limit: number;
  /** The refused client's `address:port`, when the socket still knew it. */
  readonly client?: string;
}

/** The connection cap options every kind of virtual server takes. */
export interface ConnectionCapOptions {
  /**
   * Most client connections open at once (an HTTP/2 session is one connection); a connection
   * beyond it is closed as soon as it is accepted, before any byte is read. 0 = unlimited
   * (the default).
   */
  readonly maxConnections?: number;
  /** Called for each connection closed because `maxConnections` were open. */
  readonly onConnectionRefused?: (refusal: ConnectionRefusal) => void;
}

/**
 * Caps a listener's open connections, or lifts the cap with 0. Node counts the listener's
 * sockets and closes each one beyond the cap in its accept callback, so a refused client costs
 * no TLS handshake, no buffer and no timer; setting it again applies to new connections only
 * (those open stay open, as with vTM and HAProxy).
 */
export function applyConnectionCap(server: net.Server, maxConnections = 0): void {
  // Node 20 reads 0 as "no cap", but Infinity means that under every reading of the property.
  server.maxConnections = maxConnections > 0 ? maxConnections : Infinity;
}

/**
 * Reports each connection the listener drops at its cap, with the options in force when it
 * happens (`current` is read at that moment, so a reconfigured cap or hook applies at once).
 */
export function reportRefusals(
  server: net.Server,
  name: string,
  current: () => ConnectionCapOptions,
): void {
  server.on('drop', (data?: net.DropArgument) => {
    const options = current();
    const onRefused = options.onConnectionRefused;
    if (!onRefused) return;
    const limit = options.maxConnections ?? 0;
    const address = data?.remoteAddress;
    onRefused(
      address === undefined
        ? { virtualServer: name, limit }
        : { virtualServer: name, limit, client: `${address}:${data?.remotePort}` },
    );
  });
}
