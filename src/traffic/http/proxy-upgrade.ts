// Longer than most files on purpose: one Upgrade request's path (route, dial, wait for the node's
// answer, then tunnel or relay a plain response) is one state machine, easier to check in one place.
import type { Duplex } from 'node:stream';
import type { PosternError } from '../../core/index.js';
import type { DialResult } from '../dialer.js';
import { joinStreams } from '../join-streams.js';
import { requestFacts, type RequestFacts } from './client-request.js';
import { dialOutcome, isRetryableDialError } from '../dial-outcome.js';
import type { AccessGateAllow } from './access-gate.js';
import { errorAnswer } from './error-answer.js';
import { errorCodeOf, writeRawResponse } from './error-response.js';
import { httpErrors } from './errors.js';
import { requestHead } from './forward-headers.js';
import type { HttpRuntime } from './http-runtime.js';
import type { Http1HandBack } from './http1-connection.js';
import type { Http1Request } from './http1-request.js';
import {
  NodeAttempts,
  upstreamErrorStatus,
  type NoNodeLeft,
  type QueueingPool,
} from './node-attempts.js';
import { nodeRequest } from './node-request.js';
import { reportRequestEnd } from './request-record.js';
import type { ResponseHead } from './response-parser.js';
import type { RouteMatch } from './router.js';
import type { CompiledRule } from './rules-engine.js';
import { switchResponseHead } from './switch-response.js';
import { UpgradeAnswerRelay } from './upgrade-answer-relay.js';
import { tunnelProtocols } from './upgrade-answer.js';
import { UpgradeClientBytes } from './upgrade-client-bytes.js';
import { TunnelWatch, type TunnelExpiry } from './tunnel-watch.js';
import type { UpstreamOutcome, UpstreamPick, UpstreamPool } from './upstream-pool.js';

/** Largest head of the node's answer (the response parser's default). */
const ANSWER_HEAD_BYTES = 65536;

/** Options of {@link UpgradeExchange}. */
export interface UpgradeExchangeOptions {
  /** The access gate's verdict, whose header edits apply to the upstream request. */
  readonly allow?: AccessGateAllow | undefined;
  /** Gives the client connection back to the HTTP server after a refused upgrade. */
  readonly back: Http1HandBack;
  /** Told once the exchange has ended (recorded), however it ended. */
  readonly onEnd?: (() => void) | undefined;
}

/**
 * Proxies an HTTP/1.1 Upgrade request (WebSocket and others) to a node on a connection of its
 * own. Only when the node answers 101 with an Upgrade it was asked for are the two connections
 * joined byte for byte (RFC 9110 §7.8, as nginx and HAProxy do), the 101's fields passing the
 * response rules. Any other answer is forwarded as a plain response; the client connection
 * then goes back to the HTTP server when the client can tell where that response ended and the
 * request body was read whole (as nginx does), and closes otherwise. Either way bytes the client
 * sent after the request never reach the node without being parsed.
 */
export class UpgradeExchange {
  readonly #rt: HttpRuntime;
  readonly #socket: Duplex;
  readonly #head: Buffer;
  readonly #req: Http1Request;
  readonly #facts: RequestFacts;
  readonly #upgrade: string;
  readonly #started: number;
  readonly #allow: AccessGateAllow | undefined;
  readonly #back: Http1HandBack;
  readonly #early: UpgradeClientBytes;
  readonly #nodes = new NodeAttempts();
  readonly #onEnd: (() => void) | undefined;
  /** Why the edge cut the exchange ({@link cut}); it wins over whatever the sockets report. */
  #cutReason: string | undefined;
  #route: RouteMatch<UpstreamPool> | undefined;
  #headers: string[] = [];
  #target: string;
  #connectorId: string | undefined;
  #status = 0;
  #rule: string | undefined;
  #closeReason = 'closed';
  /** The id an error answer showed the client; the request record carries it too. */
  #requestId: string | undefined;
  #bytesOut = 0;
  #done = false;
  #matched: readonly CompiledRule[] = [];
  #pick: UpstreamPick | undefined;
  #upstream: Duplex | undefined;
  #upstreamError: Error | undefined;
  #sentAt = 0;
  #relay: UpgradeAnswerRelay | undefined;
  #joined = false;
  /** Why the tunnel's watch closed it (idle, or one side finished and the other did not). */
  #expired: TunnelExpiry | undefined;

  /** `socket` and `head` (bytes read after the request's head) are handed over by the server. */
  constructor(
    rt: HttpRuntime,
    req: Http1Request,
    client: { readonly socket: Duplex; readonly head: Buffer },
    o: UpgradeExchangeOptions,
  ) {
    this.#rt = rt;
    this.#allow = o.allow;
    this.#back = o.back;
    this.#onEnd = o.onEnd;
    this.#socket = client.socket;
    this.#head = client.head;
    this.#req = req;
    this.#facts = requestFacts(req);
    this.#upgrade = tunnelProtocols(req.head.upgrade ?? '') ?? '';
    this.#started = rt.clock.monotonic();
    this.#target = this.#facts.target;
    this.#early = new UpgradeClientBytes(
      client.socket,
      req.head.chunked ? 0 : req.head.contentLength,
    );
  }

  /**
   * Ends the exchange from the edge's side (its access was revoked): both connections close at
   * once and the request record's close reason is `reason`. Does nothing once it has ended.
   */
  cut(reason: string): void {
    if (this.#done || this.#cutReason !== undefined) return;
    this.#cutReason = reason;
    this.#socket.destroy();
    this.#upstream?.destroy();
  }

  /** Routes, applies rules, dials a node and joins the connections. */
  start(): void {
    const rt = this.#rt;
    const facts = this.#facts;
    this.#socket.on('error', ignore);
    if (this.#req.head.chunked) {
      // Its body could not be told from the new protocol's bytes without decoding it.
      this.#fail(400, httpErrors.badRequest('an Upgrade request with a chunked body'));
      return;
    }
    if (facts.headerCount > rt.maxHeaders) {
      this.#fail(431, httpErrors.tooManyHeaders(rt.maxHeaders));
      return;
    }
    this.#route = rt.router.match(facts.host, facts.target);
    const prepared = nodeRequest(rt, facts, { raw: this.#req.rawHeaders, allow: this.#allow });
    this.#headers = prepared.headers;
    this.#target = prepared.target;
    this.#matched = prepared.matched;
    const reply = prepared.reply;
    if (reply) {
      this.#applyResponseRules(reply.headers);
      this.#rule = reply.rule;
      this.#status = reply.status;
      this.#bytesOut = Buffer.byteLength(reply.body);
      writeRawResponse(this.#socket, reply.status, reply.headers, reply.body);
      this.#finish();
      return;
    }
    this.#headers.push('Connection', 'Upgrade', 'Upgrade', this.#upgrade);
    this.#dial();
  }

  #dial(): void {
    const pool = (this.#route as RouteMatch<UpstreamPool>).pool;
    const pick = this.#nodes.pick(pool, { clientIp: this.#facts.clientIp });
    if ('error' in pick) {
      if (pick.queue) this.#waitInQueue(pick.queue);
      else this.#fail(pick.status, pick.error);
      return;
    }
    this.#dialPicked(pool, pick);
  }

  /** Every node is at its connection limit: waits in the pool's queue until one has room. */
  #waitInQueue(pool: QueueingPool): void {
    const queued = new AbortController();
    const leave = (): void => queued.abort();
    this.#socket.once('close', leave);
    void this.#nodes
      .wait(pool, { clientIp: this.#facts.clientIp }, queued.signal)
      .then((pick: UpstreamPick | NoNodeLeft) => {
        this.#socket.off('close', leave);
        if ('error' in pick) this.#fail(pick.status, pick.error);
        else if (!this.#socket.destroyed) this.#dialPicked(pool, pick);
        else {
          pick.done({ ok: true });
          this.#closeReason = 'client_aborted';
          this.#finish();
        }
      });
  }

  #dialPicked(pool: UpstreamPool, pick: UpstreamPick): void {
    const rt = this.#rt;
    rt.connections
      .dialStream(pick.node.address, pool.via, {
        timeoutMs: rt.connectTimeoutMs,
        tls: pool.upstreamTls,
      })
      .then(
        (result) => this.#join(pick, result),
        (err: unknown) => {
          pick.done(dialOutcome(err));
          this.#nodes.failed(err);
          // Nothing was sent to the node yet (the body goes after the dial): any method retries.
          const retry = isRetryableDialError(err) && this.#nodes.count <= rt.retries;
          if (retry && !this.#socket.destroyed) {
            this.#nodes.excludeCurrent();
            this.#dial();
          } else this.#fail(upstreamErrorStatus(err), err);
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
    const facts = this.#facts;
    upstream.write(requestHead(facts.method, this.#target, this.#headers, '', pick.node.address));
    this.#sentAt = this.#rt.clock.monotonic();
    const timed = client as Duplex & { setTimeout?: (ms: number, cb: () => void) => void };
    timed.setTimeout?.(this.#rt.idleTimeoutMs, this.#onIdle);
    this.#relay = new UpgradeAnswerRelay(client, upstream, {
      minor: this.#req.head.minor,
      isHead: facts.method === 'HEAD',
      upgrade: this.#upgrade,
      limits: { maxHeadBytes: ANSWER_HEAD_BYTES },
      events: {
        switched: (head, rest) => this.#onSwitched(head, rest),
        plainHead: (headers, framed) => this.#onPlainHead(headers, framed),
        done: (status, keepAlive) => this.#onPlainDone(status, keepAlive),
        failed: (err, started) => {
          const error = httpErrors.upstreamProtocol(this.#nodeAddress(), err.message);
          if (started) this.#relayFailed(error);
          else this.#upstreamFailed(error);
        },
      },
    });
    upstream.on('data', this.#onAnswer);
    upstream.once('end', this.#onAnswerEnd);
    upstream.once('close', this.#onAnswerEnd);
    upstream.on('error', (err: Error) => (this.#upstreamError = err));
    client.once('close', this.#onClientClose);
    this.#early.attach(upstream, this.#head);
  }

  readonly #onAnswer = (chunk: Buffer): void => {
    this.#bytesOut += chunk.length;
    this.#relay?.execute(chunk);
  };

  readonly #onAnswerEnd = (): void => {
    if (this.#bytesOut > 0) {
      this.#relay?.upstreamEnded();
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

  readonly #onIdle = (): void => {
    if (this.#done && !this.#joined) {
      // Answered (a relayed response or an error) and the client keeps the connection open.
      this.#socket.destroy();
      return;
    }
    const err = httpErrors.upstreamTimeout(this.#nodeAddress(), this.#rt.idleTimeoutMs);
    if (this.#relay?.responseStarted === true) this.#relayFailed(err);
    else this.#upstreamFailed(err);
  };

  /** The node switched protocols: its 101 (through the rules), then both ways byte for byte. */
  #onSwitched(head: ResponseHead, rest: Buffer): void {
    let text: string;
    try {
      text = switchResponseHead(head, (headers) => this.#applyResponseRules(headers));
    } catch (err) {
      this.#upstreamFailed(
        httpErrors.upstreamProtocol(this.#nodeAddress(), (err as Error).message),
      );
      return;
    }
    const client = this.#socket;
    const upstream = this.#upstream as Duplex;
    this.#stopAwaiting();
    const held = this.#early.detach();
    this.#joined = true;
    this.#status = 101;
    client.write(text, 'latin1');
    if (rest.length > 0) client.write(Buffer.from(rest));
    if (held !== undefined) upstream.write(held);
    const watch = this.#watchTunnel(client, upstream);
    upstream.on('data', (c: Buffer) => {
      this.#bytesOut += c.length;
      if (!client.destroyed) watch.touch();
    });
    client.on('data', (c: Buffer) => {
      this.#early.bytes += c.length;
      if (!upstream.destroyed) watch.touch();
    });
    const started = this.#rt.clock.monotonic();
    joinStreams(client, upstream, (reason) => {
      watch.stop();
      this.#closeReason = this.#expired ?? reason;
      this.#settle({ ok: true, responseMs: this.#rt.clock.monotonic() - started });
      this.#finish();
    });
  }

  /**
   * Bounds the joined tunnel (the client socket's own timeout stops): idle in both directions
   * for idle_timeout_ms, or one side finished (FIN or gone) and the other silent for the
   * half-closed bound. Either way both sides close and the exchange is recorded.
   */
  #watchTunnel(client: Duplex, upstream: Duplex): TunnelWatch {
    this.#stopClientTimeout();
    const watch = new TunnelWatch(this.#rt.clock, {
      idleMs: this.#rt.idleTimeoutMs,
      onExpire: (why) => {
        this.#expired = why;
        client.destroy();
        upstream.destroy();
      },
    });
    const half = (): void => watch.halfClosed();
    for (const side of [client, upstream]) {
      side.once('end', half);
      side.once('close', half);
    }
    return watch;
  }

  #stopClientTimeout(): void {
    const timed = this.#socket as Duplex & { setTimeout?: (ms: number) => void };
    timed.setTimeout?.(0);
    this.#socket.off('timeout', this.#onIdle);
  }

  /**
   * A plain answer's head: response rules apply, and the connection may stay HTTP when the
   * response is `framed`, the request body was read whole, the client did not ask to close and
   * the server is not draining.
   */
  #onPlainHead(headers: string[], framed: boolean): boolean {
    this.#applyResponseRules(headers);
    const keep = framed && !this.#early.bodyUnread && !this.#req.head.close && !this.#back.draining;
    // Later client bytes are then dropped, so that the client's close is seen.
    if (!keep) this.#early.drop();
    return keep;
  }

  #applyResponseRules(headers: string[]): void {
    if (this.#matched.length > 0) this.#rt.rules.applyResponse(this.#matched, headers);
  }

  #onPlainDone(status: number, keepAlive: boolean): void {
    this.#status = status;
    this.#stopAwaiting();
    const responseMs = this.#rt.clock.monotonic() - this.#sentAt;
    this.#settle(
      status >= 500 ? { ok: false, kind: 'status_5xx', responseMs } : { ok: true, responseMs },
    );
    if (keepAlive) this.#handBack();
    else this.#early.drop();
    this.#finish();
  }

  /** The client connection serves HTTP again, from the bytes held after the request. */
  #handBack(): void {
    const client = this.#socket;
    this.#stopClientTimeout();
    client.off('error', ignore);
    client.pause();
    const held = this.#early.detach();
    // Those bytes are the next request's, not this one's.
    if (held !== undefined) this.#early.bytes -= held.length;
    this.#back.resume(held);
  }

  /** The node failed before the client got a response: 502/504 with the reason. */
  #upstreamFailed(err: PosternError): void {
    if (this.#done) return;
    this.#stopAwaiting();
    this.#upstream?.destroy();
    const timeout = err.code === 'POSTERN_ERR_UPSTREAM_TIMEOUT';
    this.#settle({ ok: false, kind: timeout ? 'timeout' : 'reset' });
    this.#nodes.failed(err);
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
    this.#socket.off('close', this.#onClientClose);
  }

  #settle(outcome: UpstreamOutcome): void {
    const pick = this.#pick;
    this.#pick = undefined;
    pick?.done(outcome);
  }

  #nodeAddress(): string {
    return this.#nodes.node ?? '';
  }

  #fail(status: number, upstreamOrOwn: unknown): void {
    const err = this.#nodes.answer(upstreamOrOwn, this.#route?.pool.name);
    this.#early.detach();
    this.#status = status;
    this.#closeReason = errorCodeOf(err);
    const answer = errorAnswer(this.#rt, status, err);
    this.#requestId = answer.requestId;
    // Nothing of the node's answer reached the client (bytes read of a partial head stay
    // here): the record counts the error body sent, as other answers count their body.
    this.#bytesOut = Buffer.byteLength(answer.body);
    writeRawResponse(this.#socket, status, answer.headers, answer.body);
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#onEnd?.();
    reportRequestEnd(this.#rt, this.#facts, {
      route: this.#route,
      node: this.#nodes.node,
      connectorId: this.#connectorId,
      rule: this.#rule,
      status: this.#status,
      bytesIn: this.#early.bytes,
      bytesOut: this.#bytesOut,
      attempts: this.#nodes.count,
      failedNodes: this.#nodes.record,
      upgrade: true,
      closeReason: this.#cutReason ?? this.#closeReason,
      started: this.#started,
      requestId: this.#requestId,
    });
  }
}

function ignore(): void {
  // Client socket errors are followed by 'close', where the exchange ends.
}
