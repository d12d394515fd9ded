// Test support: a real HTTP(S) server on 127.0.0.1 that tests take down and bring back on the
// same port, and whose answers they change. No production code imports it.
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { opensslSelfSigned } from '../../../test/support/openssl-cert.js';

/** A self-signed certificate for `localhost`, made once per process with openssl. */
export function selfSignedCertificate(): { key: string; cert: string } {
  return opensslSelfSigned('/CN=localhost', 'DNS:localhost');
}

/** What the backend saw of one request. */
export interface SeenRequest {
  readonly path: string;
  readonly host: string | undefined;
  readonly servername: string | undefined;
}

/** A backend whose answers, and whether it listens at all, tests control. */
export class TestBackend {
  status = 200;
  body = 'ok';
  /** Accept requests but never answer them. */
  hang = false;
  readonly seen: SeenRequest[] = [];
  readonly #server: http.Server;
  readonly #sockets = new Set<net.Socket>();
  #port = 0;

  private constructor(server: http.Server) {
    this.#server = server;
    server.on('connection', (socket: net.Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const servername = (req.socket as { servername?: string | false }).servername;
      this.seen.push({
        path: req.url ?? '',
        host: req.headers.host,
        servername: servername || undefined,
      });
      if (this.hang) return;
      res.writeHead(this.status, { 'content-type': 'text/plain' });
      res.end(this.body);
    });
  }

  /** Starts an HTTP backend, or HTTPS with a self-signed certificate. */
  static async start(options: { tls?: boolean } = {}): Promise<TestBackend> {
    const server = options.tls ? https.createServer(selfSignedCertificate()) : http.createServer();
    const backend = new TestBackend(server);
    await backend.up();
    return backend;
  }

  /** `127.0.0.1:port`. */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** Whether the backend is listening. */
  get listening(): boolean {
    return this.#server.listening;
  }

  /** Listens (again, on the same port once it has one). */
  async up(): Promise<void> {
    this.#server.listen(this.#port, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#port = (this.#server.address() as net.AddressInfo).port;
  }

  /** Stops listening and cuts every open connection: new connections are refused. */
  async down(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }
}
