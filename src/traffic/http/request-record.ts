import type { FailedNodes } from '../node-failures.js';
import type { RequestFacts } from './client-request.js';
import type { HttpRequestRecord } from './http-options.js';
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
    rt.onRequestEnd?.(recordOf(rt, facts, o));
  } finally {
    rt.onExchangeEnd();
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function recordOf(rt: HttpRuntime, facts: RequestFacts, o: ExchangeOutcome): HttpRequestRecord {
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
    durationMs: Math.round(rt.clock.monotonic() - o.started),
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
