import { randomBytes } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ClientType, CollectionObject, Configuration } from '../config/index.js';
import {
  identityErrors,
  type ActivityInput,
  type ActivityLog,
  type UserIdentity,
} from '../control/index.js';
import { isPosternError, systemClock, type Clock } from '../core/index.js';
import { drainCut, joinStreams, trafficErrors, type Dialer } from '../traffic/index.js';
import { AccessDrain } from './access-drain.js';
import {
  CONNECT_ESTABLISHED,
  dialFailureStatus,
  refusalResponse,
  writeRefusal,
} from './access-answers.js';
import type { AccessAsk, AccessAuthorizer } from './access-authorizer.js';
import { AccessExpiry } from './access-expiry.js';
import { dialThroughGroups } from './dial-through-groups.js';
import type { AccessSessionMetrics } from './access-session-metrics.js';
import { ACCESS_REVOKED_REASON, OpenAccessSessions } from './access-sessions.js';
import { edgeErrors } from './errors.js';

/** An access the proxy carried: the application it matched and how the connector reached it. */
export interface AccessEvent {
  readonly application: Application;
  readonly host: string;
  readonly port: number;
  readonly connectorId: string | undefined;
  readonly resolvedAddress: string | undefined;
}

/** Serves a non-CONNECT request of the access listener; resolves true when it answered it. */
export type AccessHttpHook = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** How an {@link AccessProxy} runs; limits have defaults fit for the internet. */
export interface AccessProxyOptions {
  readonly authorizer: AccessAuthorizer;
  /** Reaches applications through a connector of a group (the edge's TunnelDialer). */
  readonly dialer: Dialer;
  readonly activity: ActivityLog;
  readonly certPem: string;
  readonly keyPem: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** The URL users give `postern login --edge`, named in 407 answers; default https://<listen address>. */
  readonly publicUrl?: string | undefined;
  /** Bound on a connector's dial of the application; default 10 s. */
  readonly dialTimeoutMs?: number;
  /** Bound on receiving a request head once the TLS handshake is done; default 10 s. */
  readonly headTimeoutMs?: number;
  /** Largest request head in bytes; larger ones get 431. Default 16 KiB. */
  readonly maxHeadBytes?: number;
  /** Bound on the TLS handshake; default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** How long one side may stay open after the other has closed; default 30 s. */
  readonly halfOpenTimeoutMs?: number;
  /** Serves requests other than CONNECT (browser login pages); without it they get 405. */
  readonly onHttpRequest?: AccessHttpHook | undefined;
  /**
   * How often, while sessions are open, the configuration in force is compared with the one each
   * session was last authorized under (a changed one re-authorizes it); default 1 s.
   */
  readonly recheckIntervalMs?: number | undefined;
  /** Counts sessions open, ended and their bytes (the edge's metrics); none when absent. */
  readonly metrics?: AccessSessionMetrics | undefined;
}

type Application = CollectionObject<'applications'>;

/** The close reason of a session cut because the token that authorized it expired. */
export const TOKEN_EXPIRED_REASON = 'token_expired';

/** What {@link AccessProxy} needs to carry and end one allowed session. */
interface SessionPlan {
  readonly sessionId: string;
  readonly ask: AccessAsk;
  readonly identity: UserIdentity;
  readonly clientType: ClientType;
  /** When the token was issued (ms): a later revocation of the user cuts the session. */
  readonly issuedAt: number;
  readonly under: Configuration;
  readonly expiresAt: number | undefined;
  readonly onEnd: (counts: Counts, reason: string, why: string | undefined) => void;
}

/** Bytes a session carried each way. */
interface Counts {
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
}

/**
 * The edge's access proxy: HTTP CONNECT over TLS with `Proxy-Authorization: Bearer <token>`.
 * Each request is authorized (token, most specific application, access policy), a connector of
 * one of the application's groups dials the destination in its own network, and bytes flow.
 * Every decision and every session end goes to the user activity log. A session ends when the
 * token that authorized it expires (close reason `token_expired`): access ends with the token.
 * Every configuration change re-authorizes the open sessions with the identity they were opened
 * with, and cuts those no longer allowed (close reason `access_revoked`). On close it drains like
 * a virtual server: sessions still open when the drain time runs out are cut (`drain_timeout`).
 */
export class AccessProxy {
  readonly server: https.Server;
  /** Non-CONNECT requests go here first; set by whoever serves browser login. */
  onHttpRequest: AccessHttpHook | undefined;
  /** Told of each access once the connector reached the destination (application learning). */
  onAccess: ((event: AccessEvent) => void) | undefined;
  readonly #o: AccessProxyOptions;
  readonly #clock: Clock;
  readonly #sessions: OpenAccessSessions;
  readonly #expiry: AccessExpiry;
  readonly #drain: AccessDrain;
  #publicUrl: string | undefined;

  constructor(options: AccessProxyOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#expiry = new AccessExpiry({ clock: this.#clock });
    this.#sessions = new OpenAccessSessions({
      authorizer: options.authorizer,
      clock: this.#clock,
      logger: options.logger,
      intervalMs: options.recheckIntervalMs,
    });
    this.onHttpRequest = options.onHttpRequest;
    this.#publicUrl = options.publicUrl;
    const headTimeoutMs = options.headTimeoutMs ?? 10_000;
    this.server = https.createServer(
      {
        cert: options.certPem,
        key: options.keyPem,
        minVersion: 'TLSv1.2',
        // A client's FIN must only end its direction: the application may still answer
        // (`postern tcp --stdio` half-closes when stdin ends). Plain http.Server does the same.
        allowHalfOpen: true,
        handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
        maxHeaderSize: options.maxHeadBytes ?? 16 * 1024,
        headersTimeout: headTimeoutMs,
        requestTimeout: Math.max(headTimeoutMs, 60_000),
        // The head timeout is enforced by a periodic check; make it fine enough to matter.
        connectionsCheckingInterval: Math.max(100, Math.min(1000, headTimeoutMs / 2)),
        keepAliveTimeout: 5000,
      },
      (req, res) => void this.#onRequest(req, res),
    );
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.#onConnect(req, socket, head).catch((err: unknown) => {
        options.logger.error({ err }, 'access proxy request failed');
        writeRefusal(socket, refusalResponse(500, edgeErrors.internal('The access proxy', err)));
      });
    });
    this.server.on('tlsClientError', (err) =>
      options.logger.debug({ err: err.message }, 'access proxy TLS handshake failed'),
    );
    this.#drain = new AccessDrain(this.server, {
      clock: this.#clock,
      sessions: () => this.#sessions.sockets(),
    });
  }

  /** The URL clients use, as told in 407 answers. */
  get publicUrl(): string | undefined {
    return this.#publicUrl;
  }

  /** Starts listening; resolves with the bound address. */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void =>
        reject(edgeErrors.listenFailed('access proxy', `${host}:${port}`, err));
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        const address = this.server.address() as AddressInfo;
        if (this.#publicUrl === undefined) {
          const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          this.#publicUrl = `https://${shown}:${address.port}`;
        }
        resolve(address);
      });
    });
  }

  /**
   * Stops accepting at once; open sessions, requests in flight and TLS handshakes under way get
   * `drainTimeoutMs` (default 0) to finish, idle keep-alive connections close now and busy ones
   * after their answer; then what is left is cut (close reason `drain_timeout`), as a closing
   * virtual server does.
   */
  async close(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    await this.#drain.drain(options.drainTimeoutMs ?? 0);
    // Expiry and re-checks go on while sessions drain: a drain does not extend access.
    this.#expiry.close();
    this.#sessions.close();
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#drain.watch(res);
    try {
      if (this.onHttpRequest && (await this.onHttpRequest(req, res))) return;
    } catch (err) {
      this.#o.logger.error({ err, url: req.url }, 'access listener request handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Internal error; see the edge log.\n');
      return;
    }
    const error = edgeErrors.accessMethod(req.method ?? 'this method');
    res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'CONNECT' });
    res.end(`${error.message} (${error.code})\n`);
  }

  async #onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    const started = this.#clock.monotonic();
    const sourceIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const target = req.url ?? '';
    // Read before deciding: a change while the token is checked or the connector dials is
    // then seen by the next re-check.
    const under = this.#o.authorizer.configuration;
    const verdict = await this.#o.authorizer.authorize({
      target,
      authorization: req.headers['proxy-authorization'],
      sourceIp,
    });
    const base = {
      sessionId: `acc-${randomBytes(6).toString('hex')}`,
      clientType: 'tcp_client',
      source: `${sourceIp}:${req.socket.remotePort ?? 0}`,
      destination: target,
      ...who(verdict.identity),
    } as const;
    if (!verdict.ok) {
      this.#record({
        ...base,
        kind: 'decision',
        application: verdict.application,
        rule: verdict.decision?.rule,
        action: 'deny',
        reason: verdict.error.message,
        status: verdict.status,
      });
      writeRefusal(socket, refusalResponse(verdict.status, verdict.error, this.#edgeUrl()));
      return;
    }
    const { expiresAt } = verdict;
    if (expiresAt !== undefined && expiresAt <= this.#clock.now()) {
      this.#refuseExpired(socket, { ...base, application: verdict.application.name }, expiresAt);
      return;
    }
    const allowed = {
      ...base,
      application: verdict.application.name,
      rule: verdict.decision.rule,
      action: 'allow',
      reason: verdict.decision.reason,
    } as const;
    const upstream = await dialThroughGroups(this.#o.dialer, verdict.application, {
      address: target,
      sessionId: base.sessionId,
      timeoutMs: this.#o.dialTimeoutMs ?? 10_000,
    }).catch((err: unknown) => {
      const status = dialFailureStatus(err);
      const error = isPosternError(err) ? err : trafficErrors.dialFailed(target, '', err);
      this.#record({ ...allowed, kind: 'decision', reason: error.message, status });
      writeRefusal(socket, refusalResponse(status, error));
    });
    if (upstream === undefined) return;
    const connector = upstream.connectorId;
    this.#record({ ...allowed, kind: 'decision', status: 200, connector });
    this.onAccess?.({
      application: verdict.application,
      host: verdict.host,
      port: verdict.port,
      connectorId: connector,
      resolvedAddress: upstream.resolvedAddress,
    });
    const ended = (counts: Counts, closeReason: string, why: string | undefined): void => {
      this.#o.metrics?.ended(base.clientType, closeReason, counts);
      this.#record({
        ...allowed,
        // A revoked session's end says why it was revoked.
        ...(why === undefined ? {} : { reason: why }),
        kind: 'session_end',
        connector,
        ...counts,
        durationMs: Math.round(this.#clock.monotonic() - started),
        closeReason,
      });
    };
    if (socket.destroyed) {
      // The client left while the connector dialed: nothing to carry.
      upstream.socket.destroy();
      ended({ bytesFromClient: 0, bytesToClient: 0 }, 'client_gone', undefined);
      return;
    }
    const ask = { target, authorization: undefined, sourceIp };
    const { sessionId, clientType } = base;
    const { identity, issuedAt } = verdict;
    const plan = { sessionId, ask, identity, clientType, issuedAt, under, expiresAt, onEnd: ended };
    this.#pipe(socket, head, upstream.socket, plan);
  }

  #pipe(client: Duplex, head: Buffer, upstream: Duplex, session: SessionPlan): void {
    const counts = { bytesFromClient: head.length, bytesToClient: 0 };
    let cutReason: string | undefined;
    let cutWhy: string | undefined;
    // One way to end a session from the edge's side, whatever the reason: both sides go at once.
    const cut = (closeReason: string, why: string): void => {
      if (cutReason !== undefined) return;
      cutReason = closeReason;
      cutWhy = why;
      client.destroy();
      upstream.destroy();
    };
    const { sessionId, ask, identity, issuedAt, under } = session;
    this.#sessions.add(client, { sessionId, ask, identity, issuedAt, under, cut });
    const stopped = this.#o.metrics?.started(session.clientType);
    const unwatch =
      session.expiresAt === undefined
        ? undefined
        : this.#expiry.watch(session.expiresAt, () => cut(TOKEN_EXPIRED_REASON, 'token expired'));
    client.write(CONNECT_ESTABLISHED);
    // Bytes the client sent right behind the CONNECT head belong to the application.
    if (head.length > 0) upstream.write(head);
    client.on('data', (chunk: Buffer) => (counts.bytesFromClient += chunk.length));
    upstream.on('data', (chunk: Buffer) => (counts.bytesToClient += chunk.length));
    // Once one side is gone its peer's bytes have nowhere to go: drain them so the peer's end
    // (and close) can arrive, and cut it if it lingers half-open.
    for (const [gone, peer] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      gone.once('close', () => {
        peer.resume();
        const timer = setTimeout(() => peer.destroy(), this.#o.halfOpenTimeoutMs ?? 30_000);
        timer.unref();
        peer.once('close', () => clearTimeout(timer));
      });
    }
    joinStreams(client, upstream, (reason) => {
      this.#sessions.delete(client);
      stopped?.();
      unwatch?.();
      const revoked = cutReason === ACCESS_REVOKED_REASON;
      session.onEnd(counts, cutReason ?? reason, revoked ? cutWhy : undefined);
    });
    // Accepted before the close, it dialed past the drain time: cut like the others were.
    if (this.#drain.ranOut) client.destroy(drainCut());
  }

  /**
   * Refuses a token past its `exp` with 407: the verifier still accepts it within its clock
   * tolerance, but the session would be cut the moment it started.
   */
  #refuseExpired(
    socket: Duplex,
    base: Omit<ActivityInput, 'kind' | 'action' | 'reason'>,
    expiresAt: number,
  ): void {
    const error = identityErrors.tokenExpired(expiresAt);
    this.#record({ ...base, kind: 'decision', action: 'deny', reason: error.message, status: 407 });
    writeRefusal(socket, refusalResponse(407, error, this.#edgeUrl()));
  }

  #record(input: ActivityInput): void {
    this.#o.activity.record(input);
  }

  #edgeUrl(): { edgeUrl?: string } {
    return this.#publicUrl === undefined ? {} : { edgeUrl: this.#publicUrl };
  }
}

function who(identity: UserIdentity | undefined): { user?: string; groups: readonly string[] } {
  if (identity === undefined) return { groups: [] };
  return { user: identity.email ?? identity.subject, groups: identity.groups };
}
