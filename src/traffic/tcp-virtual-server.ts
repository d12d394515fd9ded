import net from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { isPosternError } from '../core/index.js';
import type { Dialer } from './dialer.js';
import type { Pool } from './pool.js';
import type { PoolPick, PoolPickOptions } from './pool-options.js';
import { readWhileQueued } from './pool-queue.js';
import { joinStreams } from './join-streams.js';
import { dialOutcome, isRetryableDialError } from './dial-outcome.js';
import { boundAddress, listenOn } from './listening.js';
import { NodeFailures, type FailedNodes } from './node-failures.js';
import { applyConnectionCap, reportRefusals, type ConnectionCapOptions } from './connection-cap.js';
import { drainCut } from './drain-cut.js';
import { proxyHeaderOf, type ProxyProtocolVersion } from './proxy-header.js';
import { OpeningBytes, readOpening } from './opening-bytes.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What happened to one client connection, reported when it ends. */
export interface TcpSessionRecord {
  readonly sessionId: string;
  readonly virtualServer: string;
  readonly pool: string;
  readonly client: string;
  readonly node?: string;
  readonly connectorId?: string;
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
  readonly durationMs: number;
  /** `closed` for a normal end, otherwise the error code that ended it. */
  readonly closeReason: string;
  /** When no node could be reached: every node tried (up to a bound), with what went wrong. */
  readonly failedNodes?: FailedNodes;
}

/** Options of a TCP virtual server; timeouts default to vTM's (connect 10 s, idle 300 s). */
export interface TcpVirtualServerOptions extends ConnectionCapOptions {
  readonly name: string;
  /** `host:port` to listen on. */
  readonly listen: { host: string; port: number };
  readonly pool: Pool;
  readonly dialer: Dialer;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /**
   * Other nodes tried after a dial fails (refused, timeout, unreachable); never the same node
   * twice. Nothing has reached a node yet (a connector holds the session's first bytes until it
   * has connected), so a retry is always safe. Default 1.
   */
  readonly retries?: number;
  /**
   * PROXY protocol header sent to the node before any client byte, telling it the client's
   * address and the address the client connected to. Default `none`.
   */
  readonly proxyProtocol?: ProxyProtocolVersion;
  /** Called once per client connection when it ends. */
  readonly onSessionEnd?: (record: TcpSessionRecord) => void;
}

/** Accepts TCP clients and joins each one to a node of its pool, through the Dialer. */
export class TcpVirtualServer {
  readonly name: string;
  #options: TcpVirtualServerOptions;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  constructor(options: TcpVirtualServerOptions) {
    this.name = options.name;
    this.#options = options;
    this.#server = net.createServer(
      { pauseOnConnect: true, allowHalfOpen: true, noDelay: true },
      (socket) => {
        void this.#handle(socket);
      },
    );
    applyConnectionCap(this.#server, options.maxConnections);
    reportRefusals(this.#server, this.name, () => this.#options);
  }

  /**
   * Swaps pool, dialer, timeouts and the connection cap for new connections without re-binding
   * the listener; connections in progress keep what they started with. The listen address
   * cannot change.
   */
  reconfigure(options: TcpVirtualServerOptions): void {
    this.#options = { ...options, listen: this.#options.listen };
    applyConnectionCap(this.#server, options.maxConnections);
  }

  /** Number of client connections in progress. */
  get activeSessions(): number {
    return this.#sockets.size;
  }

  /** Starts listening; rejects with POSTERN_ERR_LISTEN_FAILED when the address is taken. */
  async start(): Promise<void> {
    await listenOn(this.#server, this.name, this.#options.listen);
  }

  /** The bound address (useful with port 0). */
  address(): { host: string; port: number } {
    return boundAddress(this.#server);
  }

  /**
   * Stops accepting; sessions in flight get `drainTimeoutMs` to finish, then are cut (close
   * reason `drain_timeout`).
   */
  async close(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const deadline = options.drainTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      for (const s of this.#sockets) s.destroy(drainCut());
    }, deadline);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }

  async #handle(client: net.Socket): Promise<void> {
    const started = performance.now();
    const sessionId = randomUUID();
    const { pool, dialer, name, retries = 1 } = this.#options;
    const clientAddress = `${client.remoteAddress}:${client.remotePort}`;
    // Taken at accept: a socket's addresses may no longer be readable once it has closed.
    const proxyHeader = proxyHeaderOf(this.#options.proxyProtocol, client);
    this.#sockets.add(client);
    client.on('error', () => undefined);
    // Nodes that failed this session; reported only when the session reached none.
    let failed: NodeFailures | undefined;
    // Built field by field: object spreads here showed in profiles of short sessions.
    const finish = (closeReason: string, node?: string, connectorId?: string): void => {
      this.#sockets.delete(client);
      const onEnd = this.#options.onSessionEnd;
      if (!onEnd) return;
      const record: Mutable<TcpSessionRecord> = {
        sessionId,
        virtualServer: name,
        pool: pool.name,
        client: clientAddress,
        bytesFromClient: client.bytesRead,
        bytesToClient: client.bytesWritten,
        durationMs: Math.round(performance.now() - started),
        closeReason,
      };
      if (node !== undefined) record.node = node;
      if (connectorId !== undefined) record.connectorId = connectorId;
      if (failed !== undefined && node === undefined) record.failedNodes = failed.toRecord();
      onEnd(record);
    };
    const tried = new Set<string>();
    // What the node gets first: the PROXY header, then what the client sent while it waited in
    // the pool's queue or (through a tunnel) for its dial.
    const opening = new OpeningBytes();
    if (proxyHeader) opening.add(proxyHeader);
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      const pickOptions = { exclude: tried, clientIp: client.remoteAddress };
      let pick: PoolPick;
      try {
        try {
          pick = pool.pick(pickOptions);
        } catch (err) {
          pick = await waitIfFull(pool, client, err, { options: pickOptions, opening });
        }
      } catch (err) {
        lastError = attempt === 0 || client.destroyed ? err : lastError;
        break;
      }
      const node = pick.node;
      tried.add(node.address);
      const dialStarted = performance.now();
      // Through a tunnel, the client is read during the dial: its first bytes travel right
      // behind the dial header instead of waiting for the connector's answer.
      const stopReading = pool.via === undefined ? undefined : readOpening(client, opening);
      try {
        const upstream = await dialer.dial({
          address: node.address,
          ...(pool.via === undefined ? {} : { via: pool.via, opening }),
          sessionId,
          timeoutMs: this.#options.connectTimeoutMs ?? 10_000,
        });
        stopReading?.();
        // For a TCP session the response time is the time to connect; the pick stays open
        // (counting as a connection of the node) until the session ends.
        const responseMs = performance.now() - dialStarted;
        if (client.destroyed) {
          upstream.socket.destroy();
          pick.done({ ok: true, responseMs });
          finish('client_gone', node.address);
          return;
        }
        // The client is still paused (pauseOnConnect, or after its wait in the queue or the
        // dial), so what the dialer did not send already goes out first, in order.
        for (const chunk of opening.unsent()) upstream.socket.write(chunk);
        // Its FIN, read while queued or dialing, was its last 'end': the join will not see it again.
        if (client.readableEnded) upstream.socket.end();
        this.#join(client, upstream.socket, (closeReason) => {
          pick.done({ ok: true, responseMs });
          finish(closeReason, node.address, upstream.connectorId);
        });
        return;
      } catch (err) {
        // Nothing reached a node, and the dialer left every opening byte for the next attempt.
        stopReading?.();
        lastError = err;
        (failed ??= new NodeFailures()).add(node.address, err);
        pick.done(dialOutcome(err));
        if (!isRetryableDialError(err) || client.destroyed) break;
      }
    }
    const gone = client.destroyed && !isPosternError(lastError);
    client.destroy();
    finish(
      gone ? 'client_gone' : isPosternError(lastError) ? lastError.code : 'POSTERN_ERR_DIAL_FAILED',
    );
  }

  #join(client: net.Socket, upstream: Duplex, done: (reason: string) => void): void {
    let idle = false;
    client.setTimeout(this.#options.idleTimeoutMs ?? 300_000, () => {
      idle = true;
      client.destroy();
      upstream.destroy();
    });
    joinStreams(client, upstream, (reason) => done(idle ? 'idle_timeout' : reason));
    client.resume();
  }
}

/** How a tcp session waits in its pool's queue. */
interface QueueWait {
  readonly options: PoolPickOptions;
  /** Receives the bytes the client sends while it waits. */
  readonly opening: OpeningBytes;
}

/**
 * After pick() failed with `err`: when every node was at its connection limit and the pool has
 * a queue, waits there for a node; else throws `err`. The client is read meanwhile, so one that
 * resets leaves the queue at once. One that half-closes (FIN) keeps its place, its request and
 * FIN going to the node (batch clients send, half-close and wait for the answer), unless the
 * pool has `abortOnClose` (HAProxy's option abortonclose): then it leaves and is closed.
 */
async function waitIfFull(
  pool: Pool,
  client: net.Socket,
  err: unknown,
  wait: QueueWait,
): Promise<PoolPick> {
  if (!isPosternError(err, 'POSTERN_ERR_POOL_FULL') || pool.queueTimeoutMs <= 0) throw err;
  const queued = new AbortController();
  const leave = (): void => queued.abort(new Error('the client closed the connection'));
  client.once('close', leave);
  const stopReading = readWhileQueued(client, () => {
    if (pool.abortOnClose) client.destroy();
  });
  try {
    return await pool.waitForSlot(wait.options, { signal: queued.signal });
  } finally {
    client.off('close', leave);
    for (const chunk of stopReading()) wait.opening.add(chunk);
  }
}
