// Test support: an HTTPS node on 127.0.0.1 that records what the edge (or a monitor) showed it of
// each request: SNI, ALPN, client certificate and which TLS connection carried it.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { TestKeyPair } from './test-certificates.js';

/** What a TLS node saw of one request. */
export interface TlsNodeRequest {
  readonly path: string;
  readonly servername: string | false;
  readonly alpn: string | false | null;
  readonly clientCn: string | undefined;
  /** Which TLS connection carried it, counting from 1. */
  readonly connection: number;
}

/** A running TLS node. */
export interface TlsNode {
  readonly address: string;
  readonly seen: TlsNodeRequest[];
  /** TCP connections accepted (a failed handshake counts here, not in `tlsConnections`). */
  tcpConnections: number;
  tlsConnections: number;
  /** Answers Upgrade requests when set (else they are closed). */
  onUpgrade: ((socket: Duplex) => void) | undefined;
  close(): Promise<void>;
}

/** How a TLS node behaves; every field is optional. */
export interface TlsNodeOptions {
  /** The body is `node <name>` (default `ok`), so a test sees which node answered. */
  readonly name?: string;
  /** CA the node checks client certificates against; without it none is asked for. */
  readonly clientCa?: string;
  /** The server's keep-alive timeout (Node's default otherwise). */
  readonly keepAliveMs?: number;
  readonly onUpgrade?: (socket: Duplex) => void;
}

/** Answers an Upgrade with 101 and echoes every byte back. */
export function echoUpgrade(socket: Duplex): void {
  socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
  socket.pipe(socket);
}

/** Starts an HTTPS node (ALPN http/1.1) with `pair` as its certificate. */
export async function startTlsNode(
  pair: TestKeyPair,
  options: TlsNodeOptions = {},
): Promise<TlsNode> {
  const { clientCa } = options;
  const body = options.name === undefined ? 'ok' : `node ${options.name}`;
  const ids = new WeakMap<object, number>();
  const server = https.createServer(
    {
      cert: pair.cert,
      key: pair.key,
      ALPNProtocols: ['http/1.1'],
      ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true }),
    },
    (req, res) => {
      const socket = req.socket as TLSSocket & { servername: string | false };
      const peer = clientCa === undefined ? undefined : socket.getPeerCertificate();
      node.seen.push({
        path: req.url ?? '',
        servername: socket.servername,
        alpn: socket.alpnProtocol,
        clientCn: peer?.subject === undefined ? undefined : String(peer.subject.CN),
        connection: ids.get(socket) ?? -1,
      });
      res.end(body);
    },
  );
  if (options.keepAliveMs !== undefined) server.keepAliveTimeout = options.keepAliveMs;
  server.on('connection', () => node.tcpConnections++);
  server.on('secureConnection', (socket) => ids.set(socket, ++node.tlsConnections));
  server.on('upgrade', (_req, socket: Duplex) => {
    if (node.onUpgrade === undefined) socket.destroy();
    else node.onUpgrade(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const node: TlsNode = {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: [],
    tcpConnections: 0,
    tlsConnections: 0,
    onUpgrade: options.onUpgrade,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return node;
}
