import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { isPosternError, type TimerHandle } from '../../core/index.js';
import {
  BodyMode,
  isIdempotent,
  requestFacts,
  type ClientRequest,
  type RequestFacts,
} from './client-request.js';
import { dialOutcome, isRetryableDialError } from './dial-outcome.js';
import { errorBody, errorCodeOf, errorHeaders } from './error-response.js';
import { httpErrors } from './errors.js';
import { requestHead, upstreamRequestHeaders } from './forward-headers.js';
import { forwardableResponseHeaders } from './header-list.js';
import type { HttpRequestRecord } from './http-options.js';
import type { HttpRuntime } from './http-runtime.js';
import type { ResponseHead } from './response-parser.js';
import type { RouteMatch } from './router.js';
import type { CompiledRule } from './rules-engine.js';
import type { Exchange, UpstreamConnection } from './upstream-connection.js';
import { UpstreamConnections } from './upstream-connections.js';
import type { UpstreamOutcome, UpstreamPick, UpstreamPool } from './upstream-pool.js';

/** A response to a client over HTTP/1.x or HTTP/2 (compatibility API). */
export type ClientResponse = ServerResponse | Http2ServerResponse;

const CHUNKED = 'Transfer-Encoding: chunked\r\n';
const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';
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
  #bodyStarted = false;
  #bodySent = false;
  #bytesIn = 0;
  #bytesOut = 0;
  #status = 0;
  #sentAt = 0;
  #responseMs = 0;
  #lastActivity = 0;
  #timer: TimerHandle | undefined;
  #paused = false;
  #responseDone = false;
  #clientGone = false;
  #recorded = false;
  #rule: string | undefined;
  #lastError: unknown;
  #closeReason = 'closed';

  constructor(rt: HttpRuntime, req: ClientRequest, res: ClientResponse) {
    this.#rt = rt;
    this.#req = req;
    this.#res = res;
    this.#started = rt.clock.monotonic();
    this.#facts = requestFacts(req);
    this.#target = this.#facts.target;
  }

  /** Routes the request, applies rules and sends it to a node. */
  start(): void {
    const rt = this.#rt;
    const facts = this.#facts;
    this.#res.on('close', () => this.#onClientClose());
    this.#req.on('error', () => undefined);
    if (facts.headerCount > rt.maxHeaders) {
      this.#sendError(431, httpErrors.tooManyHeaders(rt.maxHeaders));
      return;
    }
    this.#route = rt.router.match(facts.host, facts.target);
    this.#headers = upstreamRequestHeaders(
      this.#req.rawHeaders,
      rt.forwarded
        ? { clientIp: facts.clientIp, proto: rt.scheme, host: facts.rawHost }
        : undefined,
      facts.h2 ? facts.rawHost : undefined,
    );
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
    const idle = this.#freshOnly
      ? undefined
      : rt.connections.takeIdle(UpstreamConnections.keyOf(address, pool.via));
    if (idle) {
      this.#send(idle);
      return;
    }
    rt.connections.dial(address, pool.via, rt.connectTimeoutMs).then(
      (conn) => this.#onDialed(conn),
      (err: unknown) => this.#onDialFailed(err),
    );
  }

  #pickOptions(): { exclude?: ReadonlySet<string>; clientIp: string; cookie?: string } {
    const cookie = this.#req.headers.cookie;
    return {
      ...(this.#exclude ? { exclude: this.#exclude } : {}),
      clientIp: this.#facts.clientIp,
      ...(cookie === undefined ? {} : { cookie }),
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
    this.#lastError = err;
    if (this.#clientGone) return;
    if (isRetryableDialError(err) && this.#mayRetry()) {
      this.#retryElsewhere();
      return;
    }
    this.#sendError(isPosternError(err, 'POSTERN_ERR_DIAL_TIMEOUT') ? 504 : 502, err);
  }

  #mayRetry(): boolean {
    return (
      !this.#bodyStarted && this.#attempts <= this.#rt.retries && isIdempotent(this.#facts.method)
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
    this.#sentAt = this.#rt.clock.monotonic();
    this.#lastActivity = this.#sentAt;
    conn.begin(this, head, facts.method === 'HEAD');
    this.#timer ??= this.#rt.clock.setTimeout(() => this.#onTimer(), this.#rt.idleTimeoutMs);
    if (facts.body === BodyMode.None) this.#bodySent = true;
    else if (!this.#bodyStarted) this.#streamBody();
  }

  #streamBody(): void {
    const req = this.#req;
    if (req.listenerCount('data') === 0) {
      req.on('data', (chunk: Buffer) => this.#onRequestData(chunk));
      req.on('end', () => this.#onRequestEnd());
    }
    req.resume();
  }

  #onRequestData(chunk: Buffer): void {
    const conn = this.#conn;
    if (!conn) return;
    this.#bodyStarted = true;
    this.#bytesIn += chunk.length;
    this.#lastActivity = this.#rt.clock.monotonic();
    const socket = conn.socket;
    let ok: boolean;
    if (this.#facts.body === BodyMode.Chunked) {
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write(CRLF, 'latin1');
    } else ok = socket.write(chunk);
    if (!ok) {
      this.#req.pause();
      socket.once('drain', () => this.#req.resume());
    }
  }

  #onRequestEnd(): void {
    if (this.#facts.body === BodyMode.Chunked) this.#conn?.socket.write(LAST_CHUNK, 'latin1');
    this.#bodySent = true;
  }

  onHead(head: ResponseHead): void {
    const now = this.#rt.clock.monotonic();
    this.#lastActivity = now;
    this.#responseMs = now - this.#sentAt;
    const headers = forwardableResponseHeaders(head.rawHeaders);
    try {
      this.#writeHead(head.status, headers, this.#facts.h2 ? undefined : head.statusText, true);
    } catch (err) {
      // A field the client side refuses (Node validates names and values): the response is unusable.
      const conn = this.#conn as UpstreamConnection;
      this.#conn = undefined;
      this.#clearTimer();
      conn.abandon();
      this.#settle({ ok: false, kind: 'reset' });
      this.#status = 0;
      this.#sendError(502, httpErrors.upstreamProtocol(conn.address, (err as Error).message));
    }
  }

  onBody(chunk: Buffer, last: boolean): void {
    this.#bytesOut += chunk.length;
    this.#lastActivity = this.#rt.clock.monotonic();
    const res = this.#res as ServerResponse;
    if (last) {
      this.#responseDone = true;
      res.end(chunk);
      return;
    }
    if (!res.write(chunk)) {
      const conn = this.#conn as UpstreamConnection;
      this.#paused = true;
      conn.socket.pause();
      res.once('drain', () => {
        this.#paused = false;
        this.#lastActivity = this.#rt.clock.monotonic();
        conn.socket.resume();
      });
    }
  }

  onEnd(): void {
    const conn = this.#conn as UpstreamConnection;
    this.#conn = undefined;
    this.#clearTimer();
    if (!this.#responseDone) {
      this.#responseDone = true;
      this.#res.end();
    }
    this.#rt.connections.release(conn, conn.reusable && this.#bodySent);
    const status = this.#status;
    this.#settle(
      status >= 500
        ? { ok: false, kind: 'status_5xx', responseMs: this.#responseMs }
        : { ok: true, responseMs: this.#responseMs },
    );
  }

  onFail(err: Error, responseStarted: boolean): void {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#clearTimer();
    if (this.#clientGone) return;
    if (responseStarted || this.#status !== 0) {
      this.#settle({ ok: false, kind: 'reset' });
      this.#closeReason = errorCodeOf(err);
      this.#res.destroy();
      return;
    }
    const stale =
      conn !== undefined && conn.uses > 1 && isPosternError(err, 'POSTERN_ERR_UPSTREAM_RESET');
    if (stale && !this.#freshOnly && !this.#bodyStarted && isIdempotent(this.#facts.method)) {
      // A reused keep-alive connection the node had already closed: try a fresh one, same node.
      this.#freshOnly = true;
      this.#req.pause();
      this.#attempt();
      return;
    }
    this.#settle({ ok: false, kind: 'reset' });
    this.#lastError = err;
    if (isPosternError(err, 'POSTERN_ERR_UPSTREAM_RESET') && this.#mayRetry()) {
      this.#req.pause();
      this.#retryElsewhere();
      return;
    }
    this.#sendError(502, err);
  }

  #onTimer(): void {
    this.#timer = undefined;
    const rt = this.#rt;
    const idle = rt.clock.monotonic() - this.#lastActivity;
    if (this.#conn && (this.#paused || idle < rt.idleTimeoutMs)) {
      const wait = this.#paused ? rt.idleTimeoutMs : rt.idleTimeoutMs - idle;
      this.#timer = rt.clock.setTimeout(() => this.#onTimer(), wait);
      return;
    }
    const conn = this.#conn;
    if (!conn) return;
    this.#conn = undefined;
    conn.abandon();
    this.#settle({ ok: false, kind: 'timeout' });
    const err = httpErrors.upstreamTimeout(conn.address, rt.idleTimeoutMs);
    if (this.#status === 0) this.#sendError(504, err);
    else {
      this.#closeReason = err.code;
      this.#res.destroy();
    }
  }

  #clearTimer(): void {
    if (this.#timer) this.#rt.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
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
    const res = this.#res as ServerResponse;
    if (statusText === undefined) res.writeHead(status, headers);
    else res.writeHead(status, statusText, headers);
  }

  #reply(status: number, headers: string[], body: string): void {
    this.#responseDone = true;
    this.#bytesOut += Buffer.byteLength(body);
    this.#writeHead(status, headers, undefined, false);
    this.#res.end(body);
  }

  #sendError(status: number, err: unknown): void {
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

  #onClientClose(): void {
    if (this.#recorded) return;
    this.#recorded = true;
    if (!this.#responseDone) {
      this.#clientGone = true;
      if (this.#closeReason === 'closed') this.#closeReason = 'client_aborted';
      const conn = this.#conn;
      this.#conn = undefined;
      this.#clearTimer();
      if (conn) {
        conn.abandon();
        this.#settle({ ok: true });
      }
    }
    this.#record();
  }

  #record(): void {
    const rt = this.#rt;
    const emit = rt.onRequestEnd;
    try {
      if (emit) emit(this.#makeRecord());
    } finally {
      rt.onExchangeEnd();
    }
  }

  #makeRecord(): HttpRequestRecord {
    const rt = this.#rt;
    const facts = this.#facts;
    const route = this.#route;
    return {
      requestId: randomUUID(),
      virtualServer: rt.name,
      route: route?.route ?? 'default',
      pool: route?.pool.name ?? '',
      ...(this.#node === undefined ? {} : { node: this.#node }),
      ...(this.#connectorId === undefined ? {} : { connectorId: this.#connectorId }),
      ...(this.#rule === undefined ? {} : { rule: this.#rule }),
      client: facts.clientIp,
      method: facts.method,
      host: facts.host,
      path: facts.target,
      protocol: facts.protocol,
      status: this.#status,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      durationMs: Math.round(rt.clock.monotonic() - this.#started),
      attempts: this.#attempts,
      upgrade: false,
      closeReason: this.#closeReason,
    };
  }
}
