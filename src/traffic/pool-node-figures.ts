import type { PickOutcome } from './pool-options.js';

/**
 * How an HTTP request to a node ended: the status class of the node's answer, or what went wrong
 * with the node (the passive-health kinds `connect`, `reset`, `timeout`), `failed` for a failure
 * that is not the node's (no connector to reach it), `aborted` when the client left first.
 */
export const requestOutcomes = [
  '1xx',
  '2xx',
  '3xx',
  '4xx',
  '5xx',
  'connect',
  'reset',
  'timeout',
  'failed',
  'aborted',
] as const;

/** One of requestOutcomes. */
export type RequestOutcome = (typeof requestOutcomes)[number];

/** Upper bounds (seconds) of the response-time histogram buckets, as Prometheus `le`. */
export const responseBucketsSeconds: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const BUCKET_LIMITS_MS = responseBucketsSeconds.map((s) => s * 1000);

/** Index into requestOutcomes of how a request ended. */
export function requestOutcomeIndex(outcome: PickOutcome): number {
  const status = outcome.status;
  if (status !== undefined && status >= 100 && status < 600) return Math.floor(status / 100) - 1;
  switch (outcome.kind) {
    case 'connect':
      return 5;
    case 'reset':
      return 6;
    case 'timeout':
      return 7;
    case 'status_5xx':
      return 4;
    default:
      return outcome.ok ? 9 : 8;
  }
}

/** Response times of a node as a histogram: counts per bucket (not cumulative), sum and count. */
export interface ResponseTimes {
  /** Observations per bucket of responseBucketsSeconds, then above the last bound. */
  readonly buckets: readonly number[];
  /** Sum of all observations, in seconds. */
  readonly sumSeconds: number;
  readonly count: number;
}

/**
 * Traffic figures of one node (HAProxy `show stat`, vTM per-node counters): plain numbers bumped
 * on the hot path, read at scrape or status time, so counting costs no allocation or lookup.
 */
export class NodeFigures {
  /** HTTP requests by requestOutcomes index. */
  readonly requests = new Float64Array(requestOutcomes.length);
  /** Sessions started for tcp/tls virtual servers (and HTTP upgrades). */
  sessions = 0;
  /** The last response time (HTTP: to the response head; TCP: to connect), in ms. */
  lastResponseMs: number | undefined = undefined;
  readonly #buckets = new Float64Array(BUCKET_LIMITS_MS.length + 1);
  #sumMs = 0;
  #count = 0;

  /** Counts how a request or session picked with `request` ended. */
  record(outcome: PickOutcome, request: boolean): void {
    if (request) this.requests[requestOutcomeIndex(outcome)]! += 1;
    const ms = outcome.responseMs;
    if (ms === undefined) return;
    this.lastResponseMs = ms;
    this.#sumMs += ms;
    this.#count++;
    let i = 0;
    while (i < BUCKET_LIMITS_MS.length && ms > BUCKET_LIMITS_MS[i]!) i++;
    this.#buckets[i]! += 1;
  }

  /** The requests counted so far, by outcome, leaving out outcomes never seen. */
  requestCounts(): Partial<Record<RequestOutcome, number>> {
    const counts: Partial<Record<RequestOutcome, number>> = {};
    this.requests.forEach((n, i) => {
      if (n > 0) counts[requestOutcomes[i]!] = n;
    });
    return counts;
  }

  /** A copy of the response-time histogram. */
  responseTimes(): ResponseTimes {
    return { buckets: [...this.#buckets], sumSeconds: this.#sumMs / 1000, count: this.#count };
  }
}
