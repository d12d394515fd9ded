import { systemClock, type Clock } from '../../core/index.js';
import {
  compileErrorPages,
  type CompiledErrorPage,
  type ErrorAnswerSettings,
  type ErrorDetail,
} from './error-answer.js';
import type { HttpVirtualServerOptions, RequestEnd, TrafficLogger } from './http-options.js';
import { IdleSweeper } from './idle-watch.js';
import { Router } from './router.js';
import { RulesEngine } from './rules-engine.js';
import { UpstreamConnections } from './upstream-connections.js';
import type { UpstreamPool } from './upstream-pool.js';

/** Everything a request needs from its virtual server's configuration, fixed when it starts. */
export interface HttpRuntime extends ErrorAnswerSettings {
  readonly name: string;
  readonly scheme: 'http' | 'https';
  readonly router: Router<UpstreamPool>;
  readonly rules: RulesEngine;
  readonly forwarded: boolean;
  /** X-Forwarded-For is extended rather than replaced (see HttpVirtualServerOptions.xForwardedFor). */
  readonly appendForwardedFor: boolean;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Watches exchanges waiting on their upstream for idleTimeoutMs, with one timer. */
  readonly idleSweeper: IdleSweeper;
  readonly retries: number;
  readonly maxHeaders: number;
  readonly maxHeaderBytes: number;
  /** How much an error answer for an upstream failure tells the client. */
  readonly errorDetail: ErrorDetail;
  /** Operator pages by status, compiled. */
  readonly errorPages: ReadonlyMap<number, CompiledErrorPage>;
  readonly connections: UpstreamConnections;
  readonly clock: Clock;
  readonly logger: TrafficLogger | undefined;
  readonly onRequestEnd: ((end: RequestEnd) => void) | undefined;
  /** Called when any request or upgraded connection ends, after its record (drain bookkeeping). */
  readonly onExchangeEnd: () => void;
}

/**
 * Resolves options into a runtime. Upstream connections carry over from `previous` when the
 * dialer and reuse settings are unchanged, so a reconfiguration keeps warm keep-alive connections.
 */
export function buildRuntime(
  options: HttpVirtualServerOptions,
  onExchangeEnd: () => void,
  previous?: HttpRuntime,
): HttpRuntime {
  const clock = options.clock ?? systemClock;
  const keep =
    previous !== undefined &&
    previous.connections.dialer === options.dialer &&
    previous.clock === clock &&
    sameReuse(previous, options);
  const connections = keep
    ? previous.connections
    : new UpstreamConnections({
        dialer: options.dialer,
        clock,
        ...(options.upstream?.maxIdlePerNode === undefined
          ? {}
          : { maxIdlePerNode: options.upstream.maxIdlePerNode }),
        ...(options.upstream?.idleTimeoutMs === undefined
          ? {}
          : { idleTimeoutMs: options.upstream.idleTimeoutMs }),
      });
  reuseSettings.set(connections, reuseKey(options));
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  return {
    name: options.name,
    scheme: options.protocol,
    router: new Router(options.pool, options.routes ?? []),
    rules: new RulesEngine(options.rules ?? []),
    forwarded: options.forwardedHeaders ?? true,
    appendForwardedFor: options.xForwardedFor === 'append',
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMs,
    idleSweeper: new IdleSweeper(clock, idleTimeoutMs),
    retries: options.retries ?? 1,
    maxHeaders: options.limits?.maxHeaders ?? 100,
    maxHeaderBytes: options.limits?.maxHeaderBytes ?? 16384,
    errorDetail: options.errorDetail ?? 'minimal',
    errorPages: compileErrorPages(options.errorPages),
    connections,
    clock,
    logger: options.logger,
    onRequestEnd: options.onRequestEnd,
    onExchangeEnd,
  };
}

const reuseSettings = new WeakMap<UpstreamConnections, string>();

function reuseKey(options: HttpVirtualServerOptions): string {
  return `${options.upstream?.maxIdlePerNode ?? ''}/${options.upstream?.idleTimeoutMs ?? ''}`;
}

function sameReuse(previous: HttpRuntime, options: HttpVirtualServerOptions): boolean {
  return reuseSettings.get(previous.connections) === reuseKey(options);
}
