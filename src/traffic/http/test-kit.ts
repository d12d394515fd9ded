// Test support for the http and tls virtual servers: real Node backends on 127.0.0.1, real
// pools, a proxy on port 0 and a small HTTP/1.1 client that keeps raw headers.
import http from 'node:http';
import net from 'node:net';
import { DirectDialer } from '../direct-dial.js';
import { trafficErrors } from '../errors.js';
import { Pool } from '../pool.js';
import type { HttpRequestRecord, HttpVirtualServerOptions } from './http-options.js';
import { HttpVirtualServer } from './http-virtual-server.js';
import type { UpstreamOutcome, UpstreamPick, UpstreamPool } from './upstream-pool.js';

/** A request as a backend saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
}

/** A Node HTTP server on 127.0.0.1 that records what it receives. */
export interface Backend {
  readonly address: string;
  readonly server: http.Server;
  readonly seen: SeenRequest[];
  /** TCP connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** Starts a backend; the default handler answers 200 with `backend <name>` and echoes nothing. */
export async function startBackend(
  name: string,
  handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<Backend> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
    });
    if (handler) handler(req, res);
    else {
      req.resume();
      req.on('end', () => res.end(`backend ${name}`));
    }
  });
  server.keepAliveTimeout = 30_000;
  const sockets = new Set<net.Socket>();
  const backend = {
    address: '',
    server,
    seen,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Upgraded connections are no longer the server's; destroy every socket it ever accepted.
        for (const s of sockets) s.destroy();
      }),
  };
  server.on('connection', (socket: net.Socket) => {
    backend.connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return backend;
}

/** An address on 127.0.0.1 where nothing listens (connections are refused). */
export async function deadAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** A real pool over the given addresses, round robin, passive health off (tests count attempts). */
export function makePool(name: string, addresses: readonly string[]): Pool {
  return new Pool({
    name,
    nodes: addresses.map((address) => ({ address, weight: 1, state: 'active' as const })),
    passiveHealth: false,
  });
}

/** A running proxy and what it reported. */
export interface Proxy {
  readonly vs: HttpVirtualServer;
  readonly port: number;
  readonly records: HttpRequestRecord[];
  close(): Promise<void>;
}

/**
 * Starts an http virtual server on 127.0.0.1:0 with a direct dialer. Error bodies are `full`
 * unless `errorDetail` says otherwise: these tests check what the message says about each
 * failure; error-pages.test.ts checks the `minimal` default.
 */
export async function startProxy(
  options: Partial<HttpVirtualServerOptions> & Pick<HttpVirtualServerOptions, 'pool'>,
): Promise<Proxy> {
  const records: HttpRequestRecord[] = [];
  const vs = new HttpVirtualServer({
    name: 'test',
    protocol: 'http',
    listen: { host: '127.0.0.1', port: 0 },
    dialer: new DirectDialer(),
    onRequestEnd: (r) => records.push(r.record()),
    errorDetail: 'full',
    ...options,
  });
  await vs.start();
  return { vs, port: vs.address().port, records, close: () => vs.close({ drainTimeoutMs: 1000 }) };
}

/** A response as the test client received it. */
export interface TestResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

/** What to send. */
export interface TestRequest {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: http.OutgoingHttpHeaders | readonly string[];
  readonly body?: string | Buffer;
  readonly agent?: http.Agent | false;
}

/** Sends one request to 127.0.0.1:`port` and collects the whole response. */
export function send(port: number, req: TestRequest = {}): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: '127.0.0.1',
        port,
        method: req.method ?? 'GET',
        path: req.path ?? '/',
        headers: req.headers as http.OutgoingHttpHeaders,
        agent: req.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString(),
          });
        });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Waits until `check` holds, polling every 10 ms, at most `ms`. */
export async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A pool that always offers its nodes in the given order and records every outcome. */
export class ScriptedPool implements UpstreamPool {
  readonly via = undefined;
  readonly outcomes: { node: string; outcome: UpstreamOutcome }[] = [];
  constructor(
    readonly name: string,
    readonly order: readonly string[],
  ) {}
  pick(options?: { exclude?: ReadonlySet<string> }): UpstreamPick {
    const address = this.order.find((a) => !options?.exclude?.has(a));
    if (address === undefined) throw trafficErrors.poolEmpty(this.name);
    return { node: { address }, done: (outcome) => this.outcomes.push({ node: address, outcome }) };
  }
}
