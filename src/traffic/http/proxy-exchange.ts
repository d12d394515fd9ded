// Longer than most files on purpose: one request's path (pick, send, retry, respond, report) is one
// state machine on the hot path, easier to check for ordering and allocations in one place.
import { isPosternError } from '../../core/index.js';
import {
  BodyMode,
  isIdempotent,
  requestFacts,
  type ClientRequest,
  type RequestFacts,
} from './client-request.js';
import { dialOutcome, isRetryableDialError } from '../dial-outcome.js';
import type { AccessGateAllow } from './access-gate.js';
import { writeClientHead, writeHeadAsReceived, type ClientResponse } from './client-response.js';
import { errorAnswer } from './error-answer.js';
import { errorCodeOf } from './error-response.js';
import { httpErrors } from './errors.js';
import { requestHead } from './forward-headers.js';
import { forwardableResponseHeaders } from './header-list.js';
import type { HttpRuntime } from './http-runtime.js';
import { http2RequestFailure } from './http2-request-checks.js';
import { Http1Request } from './http1-request.js';
import { Http1Response } from './http1-response.js';
import { IdleWatch } from './idle-watch.js';
import {
  NodeAttempts,
  upstreamErrorStatus,
  type NoNodeLeft,
  type QueueingPool,
} from './node-attempts.js';
import { nodeRequest } from './node-request.js';
import { registerRefusal, type RefusalAnswerer } from './refusal-answer.js';
import { RequestBodyPump } from './request-body.js';
import { reportRequestEnd } from './request-record.js';
import type { ResponseHead } from './response-parser.js';
import type { RouteMatch } from './router.js';
import type { CompiledRule } from './rules-engine.js';
import type { Exchange, UpstreamConnection } from './upstream-connection.js';
import type {
  UpstreamOutcome,
  UpstreamPick,
  UpstreamPickOptions,
  UpstreamPool,
} from './upstream-pool.js';

export type { ClientResponse } from './client-response.js';

const CHUNKED = 'Transfer-Encoding: chunked\r\n';
const NO_RULES: readonly CompiledRule[] = [];

/**
 * Carries one client request to a node and the response back, streaming both bodies with
 * backpressure. Retries another node when the dial failed (any method: nothing was sent), or for
 * idempotent requests when the node reset before any body byte went out, and answers
 * 502/503/504 with a coded reason otherwise.
 */
export class ProxyExchange implements Exchange, RefusalAnswerer {
  readonly #rt: HttpRuntime;
  readonly #req: ClientRequest;
  readonly #res: ClientResponse;
  readonly #facts: RequestFacts;
  readonly #started: number;
  #route: RouteMatch<UpstreamPool> | undefined;
  #headers: string[] = [];
  #target: string;
  #matched: readonly CompiledRule[] = NO_RULES;
  #pick: UpstreamPick | undefined;
  #pickSettled = true;
  readonly #nodes = new NodeAttempts();
  #freshOnly = false;
  #conn: UpstreamConnection | undefined;
  #connectorId: string | undefined;
  readonly #body: RequestBodyPump | undefined;
  #bytesOut = 0;
  #status = 0;
  #sentAt = 0;
  #responseMs = 0;
  readonly #idle: IdleWatch;
  #responseDone = false;
  #clientGone = false;
  #recorded = false;
  #rule: string | undefined;
  #closeReason = 'closed';
  /** The id an error answer showed the client; the request record carries it too. */
  #requestId: string | undefined;
  /** Set while the request waits in its pool's queue; aborting leaves the queue. */
  #queued: AbortController | undefined;

  readonly #allow: AccessGateAllow | undefined;

  /** `allow` is the access gate's verdict, whose header edits apply to the upstream request. */
  constructor(rt: HttpRuntime, req: ClientRequest, res: ClientResponse, allow?: AccessGateAllow) {
    this.#rt = rt;
    this.#allow = allow;
    this.#req = req;
    this.#res = res;
    this.#started = rt.clock.monotonic();
    this.#facts = requestFacts(req);
    this.#target = this.#facts.target;
    this.#idle = new IdleWatch(rt.idleSweeper, () => this.#onIdle());
    const body = this.#facts.body;
    if (body !== BodyMode.None) {
      this.#body = new RequestBodyPump(req, body === BodyMode.Chunked, () => this.#idle.touch());
      // Only requests with a body can be refused midway (HTTP/2 keeps no field for it).
      if (!(res instanceof Http1Response)) registerRefusal(res, this);
    }
    if (res instanceof Http1Response) res.refusal = this;
  }

  /**
   * Answers a request whose body the edge stopped reading (408 stalled, 400 malformed) with
   * this exchange's id and record, and lets go of its node, dial or queue place.
   */
  answerRefusal(status: number, error: Error): void {
    this.#closeReason = errorCodeOf(error);
    // Nothing more goes to the client: a dial or queue wait that ends later just lets go.
    this.#clientGone = true;
    this.#queued?.abort();
    const conn = this.#detach();
    conn?.abandon();
    this.#settle({ ok: true }); // the node did nothing wrong
    const answer = errorAnswer(this.#rt, status, error);
    this.#requestId = answer.requestId;
    this.#reply(status, answer.headers, answer.body);
  }

  refusedAfterResponse(error: Error): void {
    this.#closeReason = errorCodeOf(error);
  }

  /** Routes the request, applies rules and sends it to a node. */
  start(): void {
    const rt = this.#rt;
    const facts = this.#facts;
    this.#res.on('close', () => this.#onClientClose());
    // Node's HTTP/2 request emits errors; Postern's HTTP/1 request never does (its connection handles them).
    if (!(this.#req instanceof Http1Request)) this.#req.on('error', () => undefined);
    if (facts.headerCount > rt.maxHeaders) {
      this.#sendError(431, httpErrors.tooManyHeaders(rt.maxHeaders));
      return;
    }
    const failure = http2RequestFailure(rt, this.#req, facts);
    if (failure) {
      this.#sendError(failure.status, failure.error);
      return;
    }
    this.#route = rt.router.match(facts.host, facts.target);
    const prepared = nodeRequest(rt, facts, {
      raw: this.#req.rawHeaders,
      allow: this.#allow,
      authority: facts.h2 ? facts.rawHost : undefined,
    });
    this.#headers = prepared.headers;
    this.#target = prepared.target;
    this.#matched = prepared.matched;
    const reply = prepared.reply;
    if (reply) {
      this.#rule = reply.rule;
      this.#reply(reply.status, reply.headers, reply.body);
      return;
    }
    this.#attempt();
  }

  #attempt(): void {
    const rt = this.#rt;
    const pool = (this.#route as RouteMatch<UpstreamPool>).pool;
    if (!this.#pick) {
      const pick = this.#nodes.pick(pool, this.#pickOptions());
      if ('error' in pick) {
        if (pick.queue) this.#waitInQueue(pick.queue);
        else this.#sendError(pick.status, pick.error);
        return;
      }
      this.#pick = pick;
      this.#pickSettled = false;
    }
    const address = this.#pick.node.address;
    const idle = this.#freshOnly
      ? undefined
      : rt.connections.takeIdle(address, pool.via, pool.upstreamTls);
    if (idle) {
      this.#send(idle);
      return;
    }
    rt.connections.dial(address, pool.via, rt.connectTimeoutMs, pool.upstreamTls).then(
      (conn) => this.#onDialed(conn),
      (err: unknown) => this.#onDialFailed(err),
    );
  }

  /** Every node is at its connection limit: waits (off the fast path) for one to have room. */
  #waitInQueue(pool: QueueingPool): void {
    const queued = (this.#queued = new AbortController());
    void this.#nodes
      .wait(pool, this.#pickOptions(), queued.signal)
      .then((pick) => this.#onQueueLeft(pick));
  }

  #onQueueLeft(pick: UpstreamPick | NoNodeLeft): void {
    this.#queued = undefined;
    if ('error' in pick) {
      this.#sendError(pick.status, pick.error);
      return;
    }
    // Handed a node just as the client left: the slot goes back at once.
    if (this.#clientGone) {
      pick.done({ ok: true });
      return;
    }
    this.#pick = pick;
    this.#pickSettled = false;
    this.#attempt();
  }

  #pickOptions(): UpstreamPickOptions {
    return {
      clientIp: this.#facts.clientIp,
      cookie: this.#req instanceof Http1Request ? this.#req.head.cookie : this.#req.headers.cookie,
      secure: this.#rt.scheme === 'https',
      request: true,
    };
  }

  #onDialed(conn: UpstreamConnection): void {
    if (this.#clientGone) {
      this.#settle({ ok: true });
      this.#rt.connections.release(conn, true);
      return;
    }
    this.#send(conn);
  }

  #onDialFailed(err: unknown): void {
    this.#settle(dialOutcome(err));
    this.#nodes.failed(err);
    if (this.#clientGone) return;
    // Nothing of the request left the edge: any method may go to another node (HAProxy's
    // retry-on conn-failure, nginx's proxy_next_upstream error).
    if (isRetryableDialError(err) && this.#mayRetry(false)) {
      this.#retryElsewhere();
      return;
    }
    this.#sendError(upstreamErrorStatus(err), err);
  }

  /**
   * True while another node may get the request: no body byte went to a node, retries are
   * left, and, when the request may have reached the failed node (`sent`), it is idempotent.
   */
  #mayRetry(sent: boolean): boolean {
    return (
      !this.#body?.started &&
      this.#nodes.count <= this.#rt.retries &&
      (!sent || isIdempotent(this.#facts.method))
    );
  }

  #retryElsewhere(): void {
    this.#nodes.excludeCurrent();
    this.#pick = undefined;
    this.#freshOnly = false;
    this.#attempt();
  }

  #send(conn: UpstreamConnection): void {
    const facts = this.#facts;
    this.#conn = conn;
    this.#connectorId = conn.connectorId;
    const framing = facts.body === BodyMode.Chunked ? CHUNKED : '';
    const head = requestHead(facts.method, this.#target, this.#headers, framing, conn.address);
    const now = this.#rt.clock.monotonic();
    this.#sentAt = now;
    conn.begin(this, head, facts.method === 'HEAD');
    this.#idle.start(now);
    this.#body?.attach(conn.socket);
  }

  onHead(head: ResponseHead): void {
    const now = this.#rt.clock.monotonic();
    this.#idle.touchAt(now);
    this.#responseMs = now - this.#sentAt;
    // Nothing to change in the fields: they go out as the upstream sent them.
    if (
      this.#matched.length === 0 &&
      this.#pick?.setCookie === undefined &&
      writeHeadAsReceived(this.#res, head)
    ) {
      this.#status = head.status;
      return;
    }
    const headers = forwardableResponseHeaders(head.rawHeaders);
    try {
      this.#writeHead(head.status, headers, this.#facts.h2 ? undefined : head.statusText, true);
    } catch (err) {
      // A field the client side refuses (Node validates names and values): the response is unusable.
      const conn = this.#detach() as UpstreamConnection;
      conn.abandon();
      this.#settle({ ok: false, kind: 'reset' });
      this.#status = 0;
      const error = httpErrors.upstreamProtocol(conn.address, (err as Error).message);
      this.#nodes.failed(error);
      this.#sendError(502, error);
    }
  }

  onBody(chunk: Buffer, last: boolean): void {
    this.#bytesOut += chunk.length;
    const res = this.#res;
    if (last) {
      // The exchange ends right after: no idleness to postpone.
      this.#responseDone = true;
      res.end(chunk);
      return;
    }
    this.#idle.touch();
    if (!res.write(chunk)) {
      const conn = this.#conn as UpstreamConnection;
      this.#idle.paused = true;
      conn.socket.pause();
      res.once('drain', () => {
        this.#idle.paused = false;
        this.#idle.touch();
        conn.socket.resume();
      });
    }
  }

  onEnd(): void {
    const conn = this.#detach() as UpstreamConnection;
    if (!this.#responseDone) {
      this.#responseDone = true;
      this.#res.end();
    }
    this.#rt.connections.release(conn, conn.reusable && (this.#body?.finished ?? true));
    this.#body?.discard();
    const status = this.#status;
    this.#settle(
      status >= 500
        ? { ok: false, kind: 'status_5xx', responseMs: this.#responseMs, status }
        : { ok: true, responseMs: this.#responseMs, status },
    );
  }

  onFail(err: Error, responseStarted: boolean): void {
    const conn = this.#detach();
    if (this.#clientGone) return;
    if (responseStarted || this.#status !== 0) {
      this.#settle({ ok: false, kind: 'reset' });
      this.#closeReason = errorCodeOf(err);
      this.#res.destroy();
      return;
    }
    const stale =
      conn !== undefined && conn.uses > 1 && isPosternError(err, 'POSTERN_ERR_UPSTREAM_RESET');
    if (stale && !this.#freshOnly && !this.#body?.started && isIdempotent(this.#facts.method)) {
      // A reused keep-alive connection the node had already closed: try a fresh one, same node.
      this.#freshOnly = true;
      this.#attempt();
      return;
    }
    this.#settle({ ok: false, kind: 'reset' });
    this.#nodes.failed(err);
    if (isPosternError(err, 'POSTERN_ERR_UPSTREAM_RESET') && this.#mayRetry(true)) {
      this.#retryElsewhere();
      return;
    }
    this.#sendError(502, err);
  }

  #onIdle(): void {
    const conn = this.#detach();
    if (!conn) return;
    conn.abandon();
    this.#settle({ ok: false, kind: 'timeout' });
    const err = httpErrors.upstreamTimeout(conn.address, this.#rt.idleTimeoutMs);
    if (this.#status === 0) {
      this.#nodes.failed(err);
      this.#sendError(504, err);
    } else {
      this.#closeReason = err.code;
      this.#res.destroy();
    }
  }

  #writeHead(
    status: number,
    headers: string[],
    statusText: string | undefined,
    upstream: boolean,
  ): void {
    if (this.#matched.length > 0) this.#rt.rules.applyResponse(this.#matched, headers);
    const cookie = upstream ? this.#pick?.setCookie : undefined;
    if (cookie !== undefined) headers.push('Set-Cookie', cookie);
    this.#status = status;
    writeClientHead(this.#res, status, headers, statusText);
  }

  #reply(status: number, headers: string[], body: string): void {
    this.#responseDone = true;
    this.#bytesOut += Buffer.byteLength(body);
    this.#writeHead(status, headers, undefined, false);
    this.#res.end(body);
    this.#body?.discard();
  }

  #sendError(status: number, upstreamOrOwn: unknown): void {
    const err = this.#nodes.answer(upstreamOrOwn, this.#route?.pool.name);
    this.#closeReason = errorCodeOf(err);
    if (this.#clientGone) return;
    if (this.#res.headersSent) {
      this.#res.destroy();
      return;
    }
    const answer = errorAnswer(this.#rt, status, err);
    this.#requestId = answer.requestId;
    this.#reply(status, answer.headers, answer.body);
  }

  #settle(outcome: UpstreamOutcome): void {
    if (this.#pickSettled) return;
    this.#pickSettled = true;
    (this.#pick as UpstreamPick).done(outcome);
  }

  /** Ends the use of the current connection: no more body, no more idle watching. */
  #detach(): UpstreamConnection | undefined {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#idle.stop();
    this.#body?.detach();
    return conn;
  }

  #onClientClose(): void {
    if (this.#recorded) return;
    this.#recorded = true;
    if (!this.#responseDone) {
      this.#clientGone = true;
      if (this.#closeReason === 'closed') this.#closeReason = 'client_aborted';
      this.#queued?.abort();
      const conn = this.#detach();
      if (conn) {
        conn.abandon();
        this.#settle({ ok: true });
      }
    }
    this.#record();
  }

  #record(): void {
    reportRequestEnd(this.#rt, this.#facts, {
      route: this.#route,
      node: this.#nodes.node,
      connectorId: this.#connectorId,
      rule: this.#rule,
      status: this.#status,
      bytesIn: this.#body?.bytes ?? 0,
      bytesOut: this.#bytesOut,
      attempts: this.#nodes.count,
      failedNodes: this.#nodes.record,
      upgrade: false,
      closeReason: this.#closeReason,
      started: this.#started,
      requestId: this.#requestId,
    });
  }
}
