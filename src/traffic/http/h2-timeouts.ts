import http2, {
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { httpErrors } from './errors.js';
import type { Http1Settings } from './http1-connection.js';
import { refusalAnswererOf } from './refusal-answer.js';

/** The timeouts read here (ms; 0 turns one off). */
export type H2TimeoutSettings = Pick<Http1Settings, 'keepaliveTimeoutMs' | 'requestTimeoutMs'>;

interface SessionState {
  /** Streams open now. */
  open: number;
  /** The session carried a stream already (so a wait for the next one is keep-alive time). */
  served: boolean;
  /** performance.now() since when no stream has been open. */
  idleSince: number;
}

interface BodyState {
  readonly stream: ServerHttp2Stream;
  readonly res: Http2ServerResponse;
  /** performance.now() of the last read of the body (or of when it was last not held back). */
  last: number;
  /** A 'data' listener counts reads (added once the stream flows, so it never starts the flow). */
  listening: boolean;
}

/**
 * The client-side timeouts of HTTP/2 sessions, as HTTP/1.1 has them (one periodic sweep for all):
 * a session with no open stream for `keepaliveTimeoutMs` gets GOAWAY and closes (with 0, as soon
 * as its streams are done; before its first stream it waits `requestTimeoutMs`), and a request
 * body with no read for `requestTimeoutMs` while the proxy reads it gets 408 (or RST_STREAM once
 * a response has started) on that stream alone.
 */
export class H2Timeouts {
  #settings: H2TimeoutSettings;
  readonly #sessions = new Map<Http2Session, SessionState>();
  readonly #bodies = new Set<BodyState>();
  #sweep: NodeJS.Timeout | undefined;

  constructor(server: Http2SecureServer, settings: H2TimeoutSettings) {
    this.#settings = settings;
    server.on('session', (session: Http2Session) => this.#onSession(session));
    server.on('stream', (stream: ServerHttp2Stream) => this.#onStream(stream));
    server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
      if (!req.stream.readableEnded && !req.stream.endAfterHeaders) {
        this.#bodies.add({ stream: req.stream, res, last: performance.now(), listening: false });
      }
    });
  }

  /** New timeouts, for every session and stream from the next sweep on. */
  configure(settings: H2TimeoutSettings): void {
    this.#settings = settings;
    this.#stopSweep();
    if (this.#sessions.size > 0) this.#startSweep();
  }

  #onSession(session: Http2Session): void {
    this.#sessions.set(session, { open: 0, served: false, idleSince: performance.now() });
    session.once('close', () => {
      this.#sessions.delete(session);
      if (this.#sessions.size === 0) this.#stopSweep();
    });
    this.#startSweep();
  }

  #onStream(stream: ServerHttp2Stream): void {
    const state = stream.session ? this.#sessions.get(stream.session) : undefined;
    if (!state) return;
    state.open++;
    state.served = true;
    stream.once('close', () => {
      state.open--;
      if (state.open === 0) state.idleSince = performance.now();
    });
  }

  #run(now: number): void {
    const s = this.#settings;
    for (const [session, state] of this.#sessions) {
      if (state.open > 0 || session.closed || session.destroyed) continue;
      const limit = state.served
        ? s.keepaliveTimeoutMs
        : s.keepaliveTimeoutMs || s.requestTimeoutMs;
      if ((state.served || limit > 0) && now - state.idleSince >= limit) session.close();
    }
    for (const body of this.#bodies) this.#checkBody(body, now, s.requestTimeoutMs);
  }

  #checkBody(body: BodyState, now: number, limit: number): void {
    const { stream } = body;
    if (stream.destroyed || stream.closed || stream.readableEnded) {
      this.#bodies.delete(body);
      return;
    }
    // Not read yet (no node yet) or held back by the upstream's backpressure: not the client's wait.
    if (stream.readableFlowing !== true) {
      body.last = now;
      return;
    }
    if (!body.listening) {
      body.listening = true;
      body.last = now;
      stream.on('data', () => (body.last = performance.now()));
      return;
    }
    if (limit <= 0 || now - body.last < limit) return;
    this.#bodies.delete(body);
    answerTimeout(body, limit);
  }

  #startSweep(): void {
    if (this.#sweep) return;
    const every = sweepInterval(this.#settings);
    this.#sweep = setInterval(() => this.#run(performance.now()), every);
    this.#sweep.unref();
  }

  #stopSweep(): void {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }
}

/**
 * 408 on the stream whose body stalled, answered by the request's exchange (with the error page
 * and request id of its virtual server's configuration, and its record saying 408 with the
 * request timeout's code, as HTTP/1.1's 408 does), then RST_STREAM (NO_ERROR once the 408 is
 * out, RFC 9113 §8.1) so the client stops sending. Once a response has started the stream is
 * only reset (CANCEL).
 */
function answerTimeout(body: BodyState, limit: number): void {
  const { stream, res } = body;
  const error = httpErrors.requestTimeout(limit);
  const answerer = refusalAnswererOf(res);
  // Once the response has started only a reset is left (the exchange records why); without an
  // exchange (the access gate still decides) there is nothing to answer or record either.
  if (res.headersSent || answerer === undefined) {
    answerer?.refusedAfterResponse(error);
    stream.close(http2.constants.NGHTTP2_CANCEL);
    return;
  }
  try {
    answerer.answerRefusal(408, error);
  } catch {
    // The stream went away meanwhile: the reset below is all there is to do.
  }
  stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

/** A quarter of the shortest timeout, between 50 ms and 1 s. */
function sweepInterval(s: H2TimeoutSettings): number {
  const timeouts = [s.requestTimeoutMs, s.keepaliveTimeoutMs].filter((t) => t > 0);
  const shortest = timeouts.length === 0 ? 4_000 : Math.min(...timeouts);
  return Math.min(1_000, Math.max(50, Math.floor(shortest / 4)));
}
