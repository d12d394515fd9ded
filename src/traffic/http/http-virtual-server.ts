import type { Http2ServerRequest, Http2ServerResponse, Http2Session } from 'node:http2';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { CertificateStore } from '../tls/certificate-store.js';
import {
  gateFor,
  gateRequest,
  sendGateResponse,
  sendGateUpgradeResponse,
  type AccessGate,
  type AccessGateAllow,
  type AccessGateRequest,
  type AccessGateRespond,
} from './access-gate.js';
import { tlsErrors } from '../tls/errors.js';
import { answerClientError } from './client-error.js';
import { reportGateAbort, reportGateAnswer } from './gate-record.js';
import type { HttpVirtualServerOptions } from './http-options.js';
import { buildRuntime, type HttpRuntime } from './http-runtime.js';
import {
  applySettings,
  createListener,
  serverSettings,
  type VirtualServerListener,
} from './http-servers.js';
import type { Http1HandBack } from './http1-connection.js';
import type { Http1Request } from './http1-request.js';
import type { ClientRequest } from './client-request.js';
import type { ClientResponse } from './proxy-exchange.js';
import { ProxyExchange } from './proxy-exchange.js';
import { UpgradeExchange } from './proxy-upgrade.js';
import { boundAddress, listenOn } from '../listening.js';
import { applyConnectionCap, reportRefusals } from '../connection-cap.js';
import type { TimerHandle } from '../../core/index.js';

/** How often open upgraded connections are re-checked when the gate does not say; 30 s. */
const RECHECK_EVERY_MS = 30_000;

/**
 * An http or https virtual server: routes each request by host and path to a pool, applies
 * rules, and proxies it to a node through the Dialer with upstream keep-alive. https terminates
 * TLS with a certificate chosen by SNI and speaks HTTP/2 and HTTP/1.1 to clients.
 */
export class HttpVirtualServer {
  readonly name: string;
  readonly protocol: 'http' | 'https';
  #options: HttpVirtualServerOptions;
  #runtime: HttpRuntime;
  #store: CertificateStore | undefined;
  readonly #listener: VirtualServerListener;
  readonly #sockets = new Set<net.Socket>();
  readonly #sessions = new Set<Http2Session>();
  /** Requests in flight on each HTTP/2 session, so that an idle timeout spares busy sessions. */
  readonly #openStreams = new WeakMap<Http2Session, number>();
  #active = 0;
  #closing = false;
  /** Open upgraded connections, with the request that opened them, for access re-checks. */
  readonly #upgrades = new Map<UpgradeExchange, AccessGateRequest>();
  #recheckTimer: TimerHandle | undefined;

  /** Validates rules and certificates; throws a coded PosternError when they cannot be used. */
  constructor(options: HttpVirtualServerOptions) {
    this.name = options.name;
    this.protocol = options.protocol;
    this.#options = options;
    this.#store = this.#buildStore(options);
    this.#runtime = buildRuntime(options, () => this.#onExchangeEnd());
    this.#listener = createListener(options, this.#store, (name, cb) => this.#sni(name, cb), {
      request: (req, res) => this.#onRequest(req, res),
      upgrade: (req, socket, head, back) => this.#onUpgrade(req, socket, head, back),
      clientError: (socket, status, error, head) =>
        answerClientError(this.#runtime, socket, status, error, head),
    });
    this.#listen();
    // Counts TCP connections, so an HTTP/2 session (however many streams) is one.
    applyConnectionCap(this.#listener.server, options.maxConnections);
    reportRefusals(this.#listener.server, this.name, () => this.#options);
  }

  /**
   * Applies new pools, routes, rules, certificates, limits and timeouts to new requests without
   * re-binding the listener; requests in flight keep what they started with. Name, protocol and
   * listen address cannot change. Throws (and changes nothing) when rules or certificates are bad.
   * A new access gate re-checks every open upgraded connection, and cuts those it would refuse.
   */
  reconfigure(options: HttpVirtualServerOptions): void {
    const next = {
      ...options,
      name: this.name,
      protocol: this.protocol,
      listen: this.#options.listen,
    };
    const store = this.#buildStore(next);
    const previous = this.#runtime;
    const previousGate = this.#options.gate;
    const runtime = buildRuntime(next, () => this.#onExchangeEnd(), previous);
    this.#options = next;
    this.#store = store;
    this.#runtime = runtime;
    if (runtime.connections !== previous.connections) previous.connections.close();
    applySettings(this.#listener, serverSettings(next));
    applyConnectionCap(this.#listener.server, next.maxConnections);
    const pair = next.tls?.certificates[0];
    if (store && pair)
      (this.#listener.server as tls.Server).setSecureContext({
        cert: pair.cert,
        key: pair.key,
        minVersion: next.tls?.minVersion ?? 'TLSv1.2',
      });
    // After the caller's whole apply (which may roll back to the old options): only the gate
    // then in force re-checks.
    const gate = next.gate;
    if (gate !== previousGate && this.#upgrades.size > 0) {
      setImmediate(() => {
        if (this.#options.gate === gate) this.#recheckUpgrades();
      });
    }
  }

  /** Requests (and upgraded connections) in progress. */
  get activeRequests(): number {
    return this.#active;
  }

  /** Upstream connections dialed so far and idle ones kept now (for tests and metrics). */
  get upstreamConnections(): { dialed: number; idle: number } {
    const c = this.#runtime.connections;
    return { dialed: c.dialed, idle: c.idleCount };
  }

  /** Starts listening; rejects with POSTERN_ERR_LISTEN_FAILED when the address is taken. */
  async start(): Promise<void> {
    await listenOn(this.#listener.server, this.name, this.#options.listen);
  }

  /** The bound address (useful with port 0). */
  address(): { host: string; port: number } {
    return boundAddress(this.#listener.server);
  }

  /**
   * Stops accepting; requests in flight get `drainTimeoutMs` (default 30000) to finish, idle
   * keep-alive connections close at once, HTTP/2 clients get GOAWAY; then everything is cut.
   */
  async close(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    this.#closing = true;
    if (this.#recheckTimer !== undefined) this.#runtime.clock.clearTimeout(this.#recheckTimer);
    this.#recheckTimer = undefined;
    const closed = new Promise<void>((resolve) => this.#listener.server.close(() => resolve()));
    this.#listener.http1.drain();
    for (const session of this.#sessions) session.close();
    const timer = setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, options.drainTimeoutMs ?? 30_000);
    timer.unref();
    await closed;
    clearTimeout(timer);
    this.#runtime.connections.close();
  }

  #buildStore(options: HttpVirtualServerOptions): CertificateStore | undefined {
    if (options.protocol !== 'https') return undefined;
    if (!options.tls?.certificates.length) throw tlsErrors.noCertificate(options.name);
    return new CertificateStore(options.tls?.certificates ?? [], {
      ...(options.tls?.minVersion === undefined ? {} : { minVersion: options.tls.minVersion }),
    });
  }

  #sni(name: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void): void {
    const store = this.#store;
    if (store) store.sniCallback(name, cb);
    else cb(null);
  }

  #listen(): void {
    const { server, h2 } = this.#listener;
    server.on('connection', (socket: net.Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      this.#runtime.logger?.debug({ err, server: this.name }, 'TLS handshake failed');
      // With a listener attached, node leaves the socket open (a handshake timeout too): close it here.
      socket.destroy();
    });
    if (!h2) return;
    h2.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
      const session = req.stream.session;
      if (session) {
        this.#openStreams.set(session, (this.#openStreams.get(session) ?? 0) + 1);
        res.once('close', () =>
          this.#openStreams.set(session, (this.#openStreams.get(session) ?? 1) - 1),
        );
      }
      this.#onRequest(req, res);
    });
    // The HTTP/2 server reports idle sessions, not sockets: one with requests in flight is left
    // to their exchanges' timers (504 on that stream alone); an idle one is closed gracefully.
    h2.on('timeout', (session: Http2Session) => {
      if ((this.#openStreams.get(session) ?? 0) > 0) return;
      session.close();
    });
    h2.on('session', (session: Http2Session) => {
      this.#sessions.add(session);
      session.on('error', () => undefined);
      session.once('close', () => this.#sessions.delete(session));
      if (this.#closing) session.close();
    });
  }

  #onRequest(req: ClientRequest, res: ClientResponse): void {
    this.#active++;
    const gate = gateFor(this.#options.gate, req.url);
    if (!gate) {
      new ProxyExchange(this.#runtime, req, res).start();
      return;
    }
    const runtime = this.#runtime;
    this.#gated(gate, req, (allow) => new ProxyExchange(runtime, req, res, allow).start(), {
      gone: res,
      upgrade: false,
      respond: (verdict) => sendGateResponse(res, verdict),
      fail: () => res.destroy(),
    });
  }

  #onUpgrade(req: Http1Request, socket: Duplex, head: Buffer, back: Http1HandBack): void {
    this.#active++;
    const gate = gateFor(this.#options.gate, req.url);
    const runtime = this.#runtime;
    const request = gateRequest(this.name, req);
    const open = (allow?: AccessGateAllow): void => {
      const exchange: UpgradeExchange = new UpgradeExchange(
        runtime,
        req,
        { socket, head },
        { allow, back, onEnd: () => this.#upgrades.delete(exchange) },
      );
      // Every upgrade is kept, so that a gate added later re-checks it too.
      this.#upgrades.set(exchange, request);
      this.#armRecheck();
      exchange.start();
    };
    if (!gate) {
      open();
      return;
    }
    this.#gated(gate, req, (allow) => open(allow), {
      gone: socket,
      upgrade: true,
      respond: (verdict) => sendGateUpgradeResponse(socket, verdict),
      fail: () => socket.destroy(),
    });
  }

  /**
   * Asks the gate, then proxies (`proceed`) or answers with the gate's response. A gate that
   * throws cuts the connection: failing closed is the only safe answer for an access check.
   */
  #gated(
    gate: AccessGate,
    req: ClientRequest,
    proceed: (allow: AccessGateAllow) => void,
    answer: {
      /** Emits 'close' when the client goes away while the gate decides. */
      gone: { once(event: 'close', listener: () => void): unknown };
      /** The request asks for an Upgrade (its record says so). */
      upgrade: boolean;
      respond: (verdict: AccessGateRespond) => void;
      fail: () => void;
    },
  ): void {
    // The generation the request arrived in records it, as its exchange would have.
    const runtime = this.#runtime;
    const started = runtime.clock.monotonic();
    // A client that leaves before the verdict is recorded then, once; the late verdict is dropped.
    let state: 'deciding' | 'decided' | 'gone' = 'deciding';
    answer.gone.once('close', () => {
      if (state !== 'deciding') return;
      state = 'gone';
      reportGateAbort(runtime, req, { started, upgrade: answer.upgrade });
    });
    gate.check(gateRequest(this.name, req)).then(
      (verdict) => {
        if (state === 'gone') return;
        state = 'decided';
        if ('allow' in verdict) {
          proceed(verdict);
          return;
        }
        answer.respond(verdict);
        if (verdict.endsConnections) this.#endUpgrades(verdict.endsConnections);
        // Logged and counted like any answer; ends the request for the drain bookkeeping too.
        reportGateAnswer(runtime, req, { verdict, started, upgrade: answer.upgrade });
      },
      (err: unknown) => {
        this.#runtime.logger?.warn({ err, server: this.name }, 'access gate failed');
        if (state === 'gone') return;
        state = 'decided';
        answer.fail();
        this.#onExchangeEnd();
      },
    );
  }

  /**
   * Asks the gate in force about each open upgraded connection, with the request that opened
   * it, and cuts those it refuses now. A re-check that fails keeps the connection (and is
   * logged): a store outage must not cut every WebSocket; the next re-check decides.
   */
  #recheckUpgrades(): void {
    const gate = this.#options.gate;
    for (const [exchange, request] of this.#upgrades) {
      const current = gateFor(gate, request.target);
      if (current?.recheck === undefined) continue;
      current.recheck(request).then(
        (reason) => {
          if (reason === undefined || this.#options.gate !== gate) return;
          const at = { server: this.name, target: request.target, clientIp: request.clientIp };
          this.#runtime.logger?.warn({ ...at, reason }, 'upgraded connection cut by access check');
          exchange.cut(reason);
        },
        (err: unknown) =>
          this.#runtime.logger?.warn({ err, server: this.name }, 'access re-check failed'),
      );
    }
  }

  /** Closes at once the open upgraded connections of a session that just ended (logout). */
  #endUpgrades(opened: (request: AccessGateRequest) => boolean): void {
    for (const [exchange, request] of this.#upgrades) {
      if (opened(request)) exchange.cut('session_ended');
    }
  }

  /** Re-checks open upgraded connections periodically (sessions end without a reconfigure). */
  #armRecheck(): void {
    if (this.#recheckTimer !== undefined || this.#closing) return;
    const gate = this.#options.gate;
    const every = gate?.recheckIntervalMs ?? RECHECK_EVERY_MS;
    const clock = this.#runtime.clock;
    this.#recheckTimer = clock.setTimeout(() => {
      this.#recheckTimer = undefined;
      if (this.#upgrades.size === 0) return;
      this.#recheckUpgrades();
      this.#armRecheck();
    }, every);
    this.#recheckTimer.unref?.();
  }

  #closeIdle(): void {
    this.#listener.http1.closeIdle();
  }

  #onExchangeEnd(): void {
    this.#active--;
    // While draining, connections that just became idle are closed rather than kept alive.
    if (this.#closing) setImmediate(() => this.#closeIdle());
  }
}
