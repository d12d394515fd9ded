import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { isPosternError } from '../../core/index.js';
import type { DialResult } from '../dialer.js';
import { joinStreams } from '../join-streams.js';
import { isIdempotent, requestFacts, type RequestFacts } from './client-request.js';
import { dialOutcome, isRetryableDialError } from '../dial-outcome.js';
import { NodeFailures, type FailedNodes } from '../node-failures.js';
import { applyGateHeaders, type AccessGateAllow } from './access-gate.js';
import { errorBody, errorCodeOf, errorHeaders, writeRawResponse } from './error-response.js';
import { httpErrors } from './errors.js';
import { requestHead, upstreamRequestHeaders } from './forward-headers.js';
import type { HttpRuntime } from './http-runtime.js';
import type { Http1Request } from './http1-request.js';
import { reportRequestEnd } from './request-record.js';
import type { RouteMatch } from './router.js';
import type { UpstreamPick, UpstreamPool } from './upstream-pool.js';

/**
 * Proxies an HTTP/1.1 Upgrade request (WebSocket and others): sends the request to a node on a
 * connection of its own, then joins the two connections byte for byte, so the node's 101 (or
 * any other answer) and everything after it reach the client unchanged.
 */
export class UpgradeExchange {
  readonly #rt: HttpRuntime;
  readonly #socket: Duplex;
  readonly #head: Buffer;
  readonly #facts: RequestFacts;
  readonly #raw: readonly string[];
  readonly #upgrade: string;
  readonly #started: number;
  #route: RouteMatch<UpstreamPool> | undefined;
  #headers: string[] = [];
  #target: string;
  #exclude: Set<string> | undefined;
  #attempts = 0;
  #node: string | undefined;
  #connectorId: string | undefined;
  #status = 0;
  #rule: string | undefined;
  #closeReason = 'closed';
  #bytesIn = 0;
  #bytesOut = 0;
  #lastError: unknown;
  #failures: NodeFailures | undefined;
  #failedNodes: FailedNodes | undefined;
  #done = false;

  readonly #allow: AccessGateAllow | undefined;

  /** `allow` is the access gate's verdict, whose header edits apply to the upstream request. */
  constructor(
    rt: HttpRuntime,
    req: Http1Request,
    socket: Duplex,
    head: Buffer,
    allow?: AccessGateAllow,
  ) {
    this.#rt = rt;
    this.#allow = allow;
    this.#socket = socket;
    this.#head = head;
    this.#facts = requestFacts(req);
    this.#raw = req.rawHeaders;
    this.#upgrade = req.head.upgrade ?? '';
    this.#started = rt.clock.monotonic();
    this.#target = this.#facts.target;
  }

  /** Routes, applies rules, dials a node and joins the connections. */
  start(): void {
    const rt = this.#rt;
    const facts = this.#facts;
    this.#socket.on('error', () => undefined);
    if (facts.headerCount > rt.maxHeaders) {
      this.#fail(431, httpErrors.tooManyHeaders(rt.maxHeaders));
      return;
    }
    this.#route = rt.router.match(facts.host, facts.target);
    const headers = upstreamRequestHeaders(
      this.#raw,
      rt.forwarded
        ? { clientIp: facts.clientIp, proto: rt.scheme, host: facts.rawHost }
        : undefined,
    );
    applyGateHeaders(headers, this.#allow);
    this.#headers = headers;
    if (!rt.rules.isEmpty) {
      const verdict = rt.rules.applyRequest({
        method: facts.method,
        host: facts.host,
        path: facts.target,
        headers,
      });
      this.#target = verdict.path;
      if (verdict.reply) {
        const { rule, status, body } = verdict.reply;
        const out = [...verdict.reply.headers, 'Content-Type', 'text/plain; charset=utf-8'];
        out.push('Content-Length', String(Buffer.byteLength(body)));
        rt.rules.applyResponse(verdict.matched, out);
        this.#rule = rule;
        this.#status = status;
        this.#bytesOut = Buffer.byteLength(body);
        writeRawResponse(this.#socket, status, out, body);
        this.#finish();
        return;
      }
    }
    headers.push('Connection', 'Upgrade', 'Upgrade', this.#upgrade);
    this.#dial();
  }

  #dial(): void {
    const rt = this.#rt;
    const pool = (this.#route as RouteMatch<UpstreamPool>).pool;
    let pick: UpstreamPick;
    try {
      pick = pool.pick({
        ...(this.#exclude ? { exclude: this.#exclude } : {}),
        clientIp: this.#facts.clientIp,
      });
    } catch (err) {
      // After failed attempts, the client learns why they failed rather than that none is left.
      const last = this.#lastError;
      if (last === undefined) this.#fail(503, err);
      else this.#fail(isPosternError(last, 'POSTERN_ERR_DIAL_TIMEOUT') ? 504 : 502, last);
      return;
    }
    this.#attempts++;
    this.#node = pick.node.address;
    rt.connections.dialer
      .dial({
        address: pick.node.address,
        ...(pool.via === undefined ? {} : { via: pool.via }),
        sessionId: randomUUID(),
        timeoutMs: rt.connectTimeoutMs,
      })
      .then(
        (result) => this.#join(pick, result),
        (err: unknown) => {
          pick.done(dialOutcome(err));
          this.#lastError = err;
          (this.#failures ??= new NodeFailures()).add(pick.node.address, err);
          const retry = isRetryableDialError(err) && isIdempotent(this.#facts.method);
          if (retry && this.#attempts <= rt.retries && !this.#socket.destroyed) {
            (this.#exclude ??= new Set()).add(pick.node.address);
            this.#dial();
          } else this.#fail(isPosternError(err, 'POSTERN_ERR_DIAL_TIMEOUT') ? 504 : 502, err);
        },
      );
  }

  #join(pick: UpstreamPick, result: DialResult): void {
    const upstream = result.socket;
    this.#connectorId = result.connectorId;
    const client = this.#socket;
    if (client.destroyed) {
      upstream.destroy();
      pick.done({ ok: true });
      this.#closeReason = 'client_aborted';
      this.#finish();
      return;
    }
    const head = requestHead(
      this.#facts.method,
      this.#target,
      this.#headers,
      '',
      pick.node.address,
    );
    upstream.write(head, 'latin1');
    if (this.#head.length > 0) upstream.write(this.#head);
    upstream.once('data', (chunk: Buffer) => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1', 0, 16));
      this.#status = status ? Number(status[1]) : 0;
    });
    let idle = false;
    const timed = client as Duplex & { setTimeout?: (ms: number, cb: () => void) => void };
    timed.setTimeout?.(this.#rt.idleTimeoutMs, () => {
      idle = true;
      client.destroy();
      upstream.destroy();
    });
    const started = this.#rt.clock.monotonic();
    upstream.on('data', (c: Buffer) => (this.#bytesOut += c.length));
    client.on('data', (c: Buffer) => (this.#bytesIn += c.length));
    joinStreams(client, upstream, (reason) => {
      this.#closeReason = idle ? 'idle_timeout' : reason;
      pick.done({
        ok: this.#status !== 0,
        ...(this.#status === 0 ? { kind: 'reset' } : {}),
        responseMs: this.#rt.clock.monotonic() - started,
      });
      this.#finish();
    });
  }

  #fail(status: number, upstreamOrOwn: unknown): void {
    let err = upstreamOrOwn;
    const failures = this.#failures;
    if (failures !== undefined && this.#route !== undefined) {
      // Every node tried failed: the answer and the record name each one, not only the last.
      err = failures.report(this.#route.pool.name, err);
      this.#failedNodes = failures.toRecord();
    }
    this.#status = status;
    this.#closeReason = errorCodeOf(err);
    const body = errorBody(err);
    writeRawResponse(this.#socket, status, errorHeaders(err, body), body);
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    reportRequestEnd(this.#rt, this.#facts, {
      route: this.#route,
      node: this.#node,
      connectorId: this.#connectorId,
      rule: this.#rule,
      status: this.#status,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      attempts: this.#attempts,
      failedNodes: this.#failedNodes,
      upgrade: true,
      closeReason: this.#closeReason,
      started: this.#started,
    });
  }
}
