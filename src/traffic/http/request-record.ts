import type { FailedNodes } from '../node-failures.js';
import type { RequestFacts } from './client-request.js';
import type { HttpRequestRecord, RequestEnd } from './http-options.js';
import type { HttpRuntime } from './http-runtime.js';
import type { RouteMatch } from './router.js';
import type { UpstreamPool } from './upstream-pool.js';
import { redactTarget } from './query-redaction.js';
import { nextRequestId } from './request-ids.js';

/** What an exchange knows about itself when it ends. */
export interface ExchangeOutcome {
  readonly route: RouteMatch<UpstreamPool> | undefined;
  readonly node: string | undefined;
  readonly connectorId: string | undefined;
  readonly rule: string | undefined;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly attempts: number;
  /** Set when Postern answered an error after nodes failed: each node tried, and why. */
  readonly failedNodes: FailedNodes | undefined;
  readonly upgrade: boolean;
  readonly closeReason: string;
  /** Monotonic start time. */
  readonly started: number;
  /** The id an error answer showed the client (the record carries the same); else a new one. */
  readonly requestId: string | undefined;
}

/** Reports an ended request to `onRequestEnd` (when set), then to the drain bookkeeping. */
export function reportRequestEnd(rt: HttpRuntime, facts: RequestFacts, o: ExchangeOutcome): void {
  try {
    const listener = rt.onRequestEnd;
    if (listener) listener(new ExchangeEnd(rt, facts, o));
  } finally {
    rt.onExchangeEnd();
  }
}

/** A record made beforehand (requests refused before they were parsed) as a request end. */
export function endOfRecord(record: HttpRequestRecord): RequestEnd {
  return {
    virtualServer: record.virtualServer,
    status: record.status,
    bytesIn: record.bytesIn,
    bytesOut: record.bytesOut,
    closeReason: record.closeReason,
    record: () => record,
  };
}

/**
 * The end of an exchange; its record is built on first request. A request id is a random UUID
 * and the path is redacted: with request logging off, that was a tenth of the edge's per-request
 * JavaScript for a record nobody read.
 */
class ExchangeEnd implements RequestEnd {
  readonly virtualServer: string;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly closeReason: string;
  readonly #rt: HttpRuntime;
  readonly #facts: RequestFacts;
  readonly #outcome: ExchangeOutcome;
  /** Taken now: the record may be asked for later. */
  readonly #durationMs: number;
  #record: HttpRequestRecord | undefined;

  constructor(rt: HttpRuntime, facts: RequestFacts, o: ExchangeOutcome) {
    this.virtualServer = rt.name;
    this.status = o.status;
    this.bytesIn = o.bytesIn;
    this.bytesOut = o.bytesOut;
    this.closeReason = o.closeReason;
    this.#rt = rt;
    this.#facts = facts;
    this.#outcome = o;
    this.#durationMs = Math.round(rt.clock.monotonic() - o.started);
  }

  record(): HttpRequestRecord {
    return (this.#record ??= recordOf(this.#rt, this.#facts, this.#outcome, this.#durationMs));
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function recordOf(
  rt: HttpRuntime,
  facts: RequestFacts,
  o: ExchangeOutcome,
  durationMs: number,
): HttpRequestRecord {
  const record: Mutable<HttpRequestRecord> = {
    requestId: o.requestId ?? nextRequestId(),
    virtualServer: rt.name,
    route: o.route?.route ?? 'default',
    pool: o.route?.pool.name ?? '',
    client: facts.clientIp,
    method: facts.method,
    host: facts.host,
    // Logs and log streams keep records; secrets in the query (OAuth codes...) stay out of them.
    path: redactTarget(facts.target),
    protocol: facts.protocol,
    status: o.status,
    bytesIn: o.bytesIn,
    bytesOut: o.bytesOut,
    durationMs,
    attempts: o.attempts,
    upgrade: o.upgrade,
    closeReason: o.closeReason,
  };
  // Assigned rather than spread into the literal: conditional spreads cost an object clone
  // per request; absent fields stay absent (exactOptionalPropertyTypes).
  if (o.node !== undefined) record.node = o.node;
  if (o.connectorId !== undefined) record.connectorId = o.connectorId;
  if (o.rule !== undefined) record.rule = o.rule;
  if (o.failedNodes !== undefined) record.failedNodes = o.failedNodes;
  return record;
}
