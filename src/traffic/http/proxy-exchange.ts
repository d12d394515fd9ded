// Longer than most files on purpose: one request's path (pick, send, retry, respond, report) is one
// state machine on the hot path, easier to check for ordering and allocations in one place.
import type { OutgoingHttpHeaders } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { isPosternError } from '../../core/index.js';
import {
  BodyMode,
  isIdempotent,
  requestFacts,
  type ClientRequest,
  type RequestFacts,
} from './client-request.js';
import { dialOutcome, isRetryableDialError } from '../dial-outcome.js';
import { NodeFailures, type FailedNodes } from '../node-failures.js';
import { applyGateHeaders, type AccessGateAllow } from './access-gate.js';
import { errorBody, errorCodeOf, errorHeaders } from './error-response.js';
import { httpErrors } from './errors.js';
import { hostConflicts, requestHead, upstreamRequestHeaders } from './forward-headers.js';
import { forwardableResponseHeaders } from './header-list.js';
import type { HttpRuntime } from './http-runtime.js';
import { Http1Request } from './http1-request.js';
import { Http1Response } from './http1-response.js';
import { IdleWatch } from './idle-watch.js';
import { RequestBodyPump } from './request-body.js';
import { requestRefusal } from './request-refusal.js';
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

/** A response to a client over HTTP/1.x (Postern's server) or HTTP/2 (Node's compatibility API). */
export type ClientResponse = Http1Response | Http2ServerResponse;

const CHUNKED = 'Transfer-Encoding: chunked\r\n';
const NO_RULES: readonly CompiledRule[] = [];

/**
 * Carries one client request to a node and the response back, streaming both bodies with
 * backpressure. Retries another node for idempotent requests when the upstream failed before
 * any body byte went out, and answers 502/503/504 with a coded reason otherwise.
 */
export class ProxyExchange implements Exchange {
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
  #node: string | undefined;
  #pickSettled = true;
  #exclude: Set<string> | undefined;
  #attempts = 0;
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
  #lastError: unknown;
  #failures: NodeFailures | undefined;
  #failedNodes: FailedNodes | undefined;
  #closeReason = 'closed';

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
    }
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
    // HTTP/2 only: Node's HTTP/2 server does not hold clients to the advertised list size.
    if (facts.headerBytes > rt.maxHeaderBytes) {
      this.#sendError(431, httpErrors.headersTooLarge(rt.maxHeaderBytes));
      return;
    }
    // HTTP/1 requests were checked by their parser; HTTP/2 ones (Host, target, TRACE, a host
    // field that contradicts :authority) here.
    if (facts.h2) {
      const refusal =
        requestRefusal(facts.method, facts.target, facts.rawHost) ??
        (hostConflicts(this.#req.rawHeaders, facts.rawHost ?? '', rt.scheme)
          ? { status: 400, message: 'its host field differs from its :authority' }
          : undefined);
      if (refusal) {
        this.#sendError(refusal.status, httpErrors.badRequest(refusal.message));
        return;
      }
    }
    this.#route = rt.router.match(facts.host, facts.target);
    this.#headers = upstreamRequestHeaders(
      this.#req.rawHeaders,
      rt.forwarded
        ? {
            clientIp: facts.clientIp,
            proto: rt.scheme,
            host: facts.rawHost,
            append: rt.appendForwardedFor,
          }
        : undefined,
      facts.h2 ? facts.rawHost : undefined,
    );
    applyGateHeaders(this.#headers, this.#allow);
    if (!rt.rules.isEmpty && !this.#applyRules()) return;
    this.#attempt();
  }

  #applyRules(): boolean {
    const facts = this.#facts;
    const verdict = this.#rt.rules.applyRequest({
      method: facts.method,
      host: facts.host,
      path: facts.target,
      headers: this.#headers,
    });
    this.#matched = verdict.matched;
    this.#target = verdict.path;
    if (!verdict.reply) return true;
    const { rule, status, headers, body } = verdict.reply;
    this.#rule = rule;
    const out = [...headers, 'Content-Type', 'text/plain; charset=utf-8'];
    out.push('Content-Length', String(Buffer.byteLength(body)));
    this.#reply(status, out, body);
    return false;
  }

  #attempt(): void {
    const rt = this.#rt;
    const pool = (this.#route as RouteMatch<UpstreamPool>).pool;
    if (!this.#pick) {
      let pick: UpstreamPick;
      try {
        pick = pool.pick(this.#pickOptions());
      } catch (err) {
        // After failed attempts, the client learns why they failed rather than that none is left.
        const last = this.#lastError;
        if (last === undefined) this.#sendError(503, err);
        else this.#sendError(isPosternError(last, 'POSTERN_ERR_DIAL_TIMEOUT') ? 504 : 502, last);
        return;
      }
      this.#pick = pick;
      this.#node = pick.node.address;
      this.#pickSettled = false;
      this.#attempts++;
    }
    const address = this.#pick.node.address;
    const idle = this.#freshOnly ? undefined : rt.connections.takeIdle(address, pool.via);
    if (idle) {
      this.#send(idle);
      return;
    }
    rt.connections.dial(address, pool.via, rt.connectTimeoutMs).then(
      (conn) => this.#onDialed(conn),
      (err: unknown) => this.#onDialFailed(err),
    );
  }

  #pickOptions(): UpstreamPickOptions {
    return {
      exclude: this.#exclude,
      clientIp: this.#facts.clientIp,
      cookie: this.#req instanceof Http1Request ? this.#req.head.cookie : this.#req.headers.cookie,
      secure: this.#rt.scheme === 'https',
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
    this.#failed(err);
    if (this.#clientGone) return;
    if (isRetryableDialError(err) && this.#mayRetry()) {
      this.#retryElsewhere();
      return;
    }
    this.#sendError(isPosternError(err, 'POSTERN_ERR_DIAL_TIMEOUT') ? 504 : 502, err);
  }

  #mayRetry(): boolean {
    return (
      !this.#body?.started && this.#attempts <= this.#rt.retries && isIdempotent(this.#facts.method)
    );
  }

  #retryElsewhere(): void {
    (this.#exclude ??= new Set()).add((this.#pick as UpstreamPick).node.address);
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
    const res = this.#res;
    if (
      head.forwardable !== undefined &&
      this.#matched.length === 0 &&
      this.#pick?.setCookie === undefined &&
      res instanceof Http1Response
    ) {
      // Nothing to change in the fields: they go out as the upstream sent them.
      this.#status = head.status;
      res.writeHeadLines(head.status, head.statusText, head.forwardable, {
        hasLength: head.contentLength >= 0,
        hasDate: head.hasDate,
      });
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
      this.#failed(error);
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
        ? { ok: false, kind: 'status_5xx', responseMs: this.#responseMs }
        : { ok: true, responseMs: this.#responseMs },
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
    this.#failed(err);
    if (isPosternError(err, 'POSTERN_ERR_UPSTREAM_RESET') && this.#mayRetry()) {
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
      this.#failed(err);
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
    const res = this.#res;
    if (res instanceof Http1Response) res.writeHead(status, statusText, headers);
    // node:http2 takes a flat list too (its types say otherwise); HTTP/2 has no status text.
    else res.writeHead(status, headers as unknown as OutgoingHttpHeaders);
  }

  #reply(status: number, headers: string[], body: string): void {
    this.#responseDone = true;
    this.#bytesOut += Buffer.byteLength(body);
    this.#writeHead(status, headers, undefined, false);
    this.#res.end(body);
    this.#body?.discard();
  }

  /** Remembers that the current node failed before any response reached the client. */
  #failed(err: unknown): void {
    this.#lastError = err;
    (this.#failures ??= new NodeFailures()).add((this.#pick as UpstreamPick).node.address, err);
  }

  #sendError(status: number, upstreamOrOwn: unknown): void {
    let err = upstreamOrOwn;
    const failures = this.#failures;
    if (failures !== undefined && this.#route !== undefined) {
      // Every node tried failed: the answer and the record name each one, not only the last.
      err = failures.report(this.#route.pool.name, err);
      this.#failedNodes = failures.toRecord();
    }
    this.#closeReason = errorCodeOf(err);
    if (this.#clientGone) return;
    if (this.#res.headersSent) {
      this.#res.destroy();
      return;
    }
    const body = errorBody(err);
    this.#reply(status, errorHeaders(err, body), body);
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
      node: this.#node,
      connectorId: this.#connectorId,
      rule: this.#rule,
      status: this.#status,
      bytesIn: this.#body?.bytes ?? 0,
      bytesOut: this.#bytesOut,
      attempts: this.#attempts,
      failedNodes: this.#failedNodes,
      upgrade: false,
      closeReason: this.#closeReason,
      started: this.#started,
    });
  }
}
