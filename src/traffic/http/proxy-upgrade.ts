// Longer than most files on purpose: one Upgrade request's path (route, dial, wait for the node's
// answer, then tunnel or relay a plain response) is one state machine, easier to check in one place.
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { isPosternError, type PosternError } from '../../core/index.js';
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
import type { CompiledRule } from './rules-engine.js';
import { RefusedUpgradeRelay, tunnelProtocols, upgradeAnswerOf } from './upgrade-answer.js';
import type { UpstreamOutcome, UpstreamPick, UpstreamPool } from './upstream-pool.js';

/** Client bytes held (after the request, before the node's answer) before reading pauses. */
const HOLD_BYTES = 65536;
/** Largest head of the node's answer (the response parser's default). */
const ANSWER_HEAD_BYTES = 65536;

/**
 * Proxies an HTTP/1.1 Upgrade request (WebSocket and others) to a node on a connection of its
 * own. Only when the node answers 101 with an Upgrade it was asked for are the two connections
 * joined byte for byte (RFC 9110 §7.8, as nginx and HAProxy do); any other answer is forwarded
 * as a plain response with `Connection: close`, and the client connection closes after it, so
 * bytes the client sends after the request never reach the node without being parsed.
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
  readonly #minor: 0 | 1;
  readonly #chunkedBody: boolean;
  #matched: readonly CompiledRule[] = [];
  /** Declared request body bytes still to pass to the node before its answer. */
  #bodyLeft: number;
  #pick: UpstreamPick | undefined;
  #upstream: Duplex | undefined;
  #upstreamError: Error | undefined;
  #sentAt = 0;
  /** The node's answer so far, until its head says whether it switches. */
  #answer: Buffer | undefined;
  /** Client bytes after the request, held until the node switches protocols. */
  #held: Buffer | undefined;
  #relay: RefusedUpgradeRelay | undefined;
  #joined = false;
  #idle = false;

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
    this.#upgrade = tunnelProtocols(req.head.upgrade ?? '') ?? '';
    this.#started = rt.clock.monotonic();
    this.#target = this.#facts.target;
    this.#minor = req.head.minor;
    this.#chunkedBody = req.head.chunked;
    this.#bodyLeft = req.head.chunked ? 0 : Math.max(0, req.head.contentLength);
  }

  /** Routes, applies rules, dials a node and joins the connections. */
  start(): void {
    const rt = this.#rt;
    const facts = this.#facts;
    this.#socket.on('error', () => undefined);
    if (this.#chunkedBody) {
      // Its body could not be told from the new protocol's bytes without decoding it.
      this.#fail(400, httpErrors.badRequest('an Upgrade request with a chunked body'));
      return;
    }
    if (facts.headerCount > rt.maxHeaders) {
      this.#fail(431, httpErrors.tooManyHeaders(rt.maxHeaders));
      return;
    }
    this.#route = rt.router.match(facts.host, facts.target);
    const headers = upstreamRequestHeaders(
      this.#raw,
      rt.forwarded
        ? {
            clientIp: facts.clientIp,
            proto: rt.scheme,
            host: facts.rawHost,
            append: rt.appendForwardedFor,
          }
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
      this.#matched = verdict.matched;
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
    this.#pick = pick;
    this.#upstream = upstream;
    const head = requestHead(
      this.#facts.method,
      this.#target,
      this.#headers,
      '',
      pick.node.address,
    );
    upstream.write(head, 'latin1');
    this.#sentAt = this.#rt.clock.monotonic();
    const timed = client as Duplex & { setTimeout?: (ms: number, cb: () => void) => void };
    timed.setTimeout?.(this.#rt.idleTimeoutMs, () => this.#onIdle());
    upstream.on('data', this.#onAnswer);
    upstream.once('end', this.#onAnswerEnd);
    upstream.once('close', this.#onAnswerEnd);
    upstream.on('error', (err: Error) => (this.#upstreamError = err));
    client.once('close', this.#onClientClose);
    client.on('data', this.#onClientData);
    if (this.#head.length > 0) this.#onClientData(this.#head);
    client.resume();
  }

  /**
   * Client bytes before the node's answer: the request's declared body goes to the node, the
   * rest waits for a 101 (it is then the new protocol's) and is dropped otherwise.
   */
  readonly #onClientData = (chunk: Buffer): void => {
    this.#bytesIn += chunk.length;
    let rest = chunk;
    if (this.#bodyLeft > 0) {
      const n = Math.min(this.#bodyLeft, chunk.length);
      this.#bodyLeft -= n;
      const upstream = this.#upstream as Duplex;
      if (!upstream.write(chunk.subarray(0, n))) {
        this.#socket.pause();
        upstream.once('drain', () => {
          if (!this.#joined && (this.#held?.length ?? 0) < HOLD_BYTES) this.#socket.resume();
        });
      }
      rest = chunk.subarray(n);
    }
    if (rest.length === 0 || this.#relay !== undefined) return;
    this.#held = this.#held === undefined ? Buffer.from(rest) : Buffer.concat([this.#held, rest]);
    if (this.#held.length >= HOLD_BYTES) this.#socket.pause();
  };

  readonly #onAnswer = (chunk: Buffer): void => {
    const relay = this.#relay;
    if (relay !== undefined) {
      this.#bytesOut += chunk.length;
      relay.execute(chunk);
      return;
    }
    const buf = this.#answer === undefined ? chunk : Buffer.concat([this.#answer, chunk]);
    let answer;
    try {
      answer = upgradeAnswerOf(buf, this.#upgrade, ANSWER_HEAD_BYTES);
    } catch (err) {
      this.#upstreamFailed(
        httpErrors.upstreamProtocol(this.#nodeAddress(), (err as Error).message),
      );
      return;
    }
    if (answer === undefined) this.#answer = Buffer.from(buf);
    else if (answer.switched) this.#switch(buf);
    else this.#startRelay(buf);
  };

  readonly #onAnswerEnd = (): void => {
    if (this.#relay !== undefined) {
      this.#relay.upstreamEnded();
      return;
    }
    const detail = (this.#upstreamError as { code?: string } | undefined)?.code;
    this.#upstreamFailed(
      httpErrors.upstreamReset(this.#nodeAddress(), detail ?? 'connection closed'),
    );
  };

  readonly #onClientClose = (): void => {
    if (this.#done) return;
    this.#stopAwaiting();
    this.#closeReason = 'client_aborted';
    this.#upstream?.destroy();
    this.#settle({ ok: true });
    this.#finish();
  };

  #onIdle(): void {
    if (this.#done && !this.#joined) {
      // Answered (a relayed response or an error) and the client keeps the connection open.
      this.#socket.destroy();
      return;
    }
    if (this.#joined) {
      this.#idle = true;
      this.#socket.destroy();
      this.#upstream?.destroy();
      return;
    }
    const err = httpErrors.upstreamTimeout(this.#nodeAddress(), this.#rt.idleTimeoutMs);
    if (this.#relay?.responseStarted === true) this.#relayFailed(err);
    else this.#upstreamFailed(err);
  }

  /** The node switched protocols: its 101 and everything after it, and the held bytes, flow. */
  #switch(buf: Buffer): void {
    const client = this.#socket;
    const upstream = this.#upstream as Duplex;
    this.#stopAwaiting();
    this.#joined = true;
    this.#status = 101;
    this.#bytesOut += buf.length;
    client.write(buf);
    if (this.#held !== undefined) upstream.write(this.#held);
    this.#held = undefined;
    upstream.on('data', (c: Buffer) => (this.#bytesOut += c.length));
    client.on('data', (c: Buffer) => (this.#bytesIn += c.length));
    const started = this.#rt.clock.monotonic();
    joinStreams(client, upstream, (reason) => {
      this.#closeReason = this.#idle ? 'idle_timeout' : reason;
      this.#settle({ ok: true, responseMs: this.#rt.clock.monotonic() - started });
      this.#finish();
    });
  }

  /** Any answer but 101: forwarded as a plain response, then the client connection closes. */
  #startRelay(buf: Buffer): void {
    this.#held = undefined;
    this.#socket.resume(); // later client bytes are read and dropped, so its close is seen
    this.#relay = new RefusedUpgradeRelay(this.#socket, this.#upstream as Duplex, {
      minor: this.#minor,
      isHead: this.#facts.method === 'HEAD',
      limits: { maxHeadBytes: ANSWER_HEAD_BYTES },
      events: {
        editHeaders: (headers) => {
          if (this.#matched.length > 0) this.#rt.rules.applyResponse(this.#matched, headers);
        },
        done: (status) => {
          this.#status = status;
          this.#stopAwaiting();
          const responseMs = this.#rt.clock.monotonic() - this.#sentAt;
          this.#settle(
            status >= 500
              ? { ok: false, kind: 'status_5xx', responseMs }
              : { ok: true, responseMs },
          );
          this.#finish();
        },
        failed: (err, started) => {
          const error = httpErrors.upstreamProtocol(this.#nodeAddress(), err.message);
          if (started) this.#relayFailed(error);
          else this.#upstreamFailed(error);
        },
      },
    });
    this.#bytesOut += buf.length;
    this.#relay.execute(buf);
  }

  /** The node failed before the client got a response: 502/504 with the reason. */
  #upstreamFailed(err: PosternError): void {
    if (this.#done) return;
    this.#stopAwaiting();
    this.#upstream?.destroy();
    const timeout = err.code === 'POSTERN_ERR_UPSTREAM_TIMEOUT';
    this.#settle({ ok: false, kind: timeout ? 'timeout' : 'reset' });
    this.#failed(err);
    this.#fail(timeout ? 504 : 502, err);
  }

  /** The node failed after the client got a response head: the response is cut. */
  #relayFailed(err: PosternError): void {
    if (this.#done) return;
    this.#stopAwaiting();
    this.#upstream?.destroy();
    this.#settle({
      ok: false,
      kind: err.code === 'POSTERN_ERR_UPSTREAM_TIMEOUT' ? 'timeout' : 'reset',
    });
    this.#status = this.#relay?.status ?? 0;
    this.#closeReason = err.code;
    this.#socket.destroy();
    this.#finish();
  }

  #stopAwaiting(): void {
    const upstream = this.#upstream;
    if (upstream !== undefined) {
      upstream.off('data', this.#onAnswer);
      upstream.off('end', this.#onAnswerEnd);
      upstream.off('close', this.#onAnswerEnd);
    }
    this.#socket.off('data', this.#onClientData);
    this.#socket.off('close', this.#onClientClose);
  }

  #settle(outcome: UpstreamOutcome): void {
    const pick = this.#pick;
    this.#pick = undefined;
    pick?.done(outcome);
  }

  #failed(err: unknown): void {
    this.#lastError = err;
    (this.#failures ??= new NodeFailures()).add(this.#nodeAddress(), err);
  }

  #nodeAddress(): string {
    return this.#node ?? '';
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
