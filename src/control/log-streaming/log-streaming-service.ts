import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { logTypes, type LogType } from '../../config/index.js';
import { systemClock, type BackoffOptions, type Clock } from '../../core/index.js';
import { logStreamErrors } from './errors.js';
import { LogStreamMetrics, type ReceiverBacklog } from './log-stream-metrics.js';
import type { LogFields, LogRecord, LogValue } from './log-types.js';
import { ReceiverSink, type ReceiverSpec } from './receiver-sink.js';

/** What sources need: publish one record of a log type to every receiver that wants it. */
export interface LogPublisher {
  /** Queues a record for every matching receiver; never blocks and never throws for I/O. */
  publish(type: LogType, fields: LogFields): void;
}

/** Options of {@link LogStreamingService}. */
export interface LogStreamingOptions {
  /** Directory of the disk spools, one subdirectory per receiver (the edge uses <data-dir>/log-spool). */
  readonly spoolDir: string;
  readonly logger: Logger;
  /** Default the system clock. */
  readonly clock?: Clock | undefined;
  /** Registry the metrics go to; default a registry of its own. */
  readonly registry?: Registry | undefined;
  /** Reconnect backoff; default 1 s growing ×1.5 to 30 s, 20% jitter. */
  readonly backoff?: BackoffOptions | undefined;
  /** Bound on connecting (and the TLS handshake); default 10 s. */
  readonly connectTimeoutMs?: number | undefined;
}

/**
 * The log streaming service (like ZPA's Log Streaming Service): sources publish records by log
 * type, and each configured receiver gets the ones it subscribes to, in order, through its own
 * bounded queue (memory, then a disk spool) that rides out receiver outages.
 */
export class LogStreamingService implements LogPublisher {
  readonly metrics: LogStreamMetrics;
  readonly #o: LogStreamingOptions;
  readonly #clock: Clock;
  readonly #sinks = new Map<string, ReceiverSink>();
  #configured = false;
  #closed = false;

  constructor(options: LogStreamingOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.metrics = new LogStreamMetrics(options.registry, () => this.status());
  }

  /** Stamps a record with its type and time (unless given) and queues it for matching receivers. */
  publish(type: LogType, fields: LogFields): void {
    if (!(logTypes as readonly string[]).includes(type)) throw logStreamErrors.unknownLogType(type);
    if (this.#sinks.size === 0 || this.#closed) return;
    const record = makeRecord(type, fields, this.#clock.now());
    let json: string | undefined;
    for (const sink of this.#sinks.values()) {
      if (sink.accepts(record)) sink.enqueue((json ??= JSON.stringify(record)));
    }
  }

  /**
   * Applies the receivers of a new configuration generation: new ones start, removed or
   * disabled ones stop and drop their queue, changed ones keep their queue (and reconnect when
   * the connection settings changed).
   */
  configure(receivers: readonly ReceiverSpec[]): void {
    if (this.#closed) return;
    const wanted = new Map(receivers.filter((r) => r.enabled).map((r) => [r.name, r]));
    for (const [name, sink] of this.#sinks) {
      if (wanted.has(name)) continue;
      sink.discard();
      this.#sinks.delete(name);
      this.#o.logger.info({ receiver: name }, 'log receiver removed');
    }
    if (!this.#configured) this.#removeOrphanSpools(new Set(wanted.keys()));
    this.#configured = true;
    for (const spec of wanted.values()) {
      const sink = this.#sinks.get(spec.name);
      if (sink) {
        sink.update(spec);
        continue;
      }
      this.#add(spec);
    }
  }

  #add(spec: ReceiverSpec): void {
    const spoolDir = join(this.#o.spoolDir, spec.name);
    let sink: ReceiverSink;
    try {
      sink = new ReceiverSink(spec, {
        spoolDir,
        clock: this.#clock,
        logger: this.#o.logger.child({ component: 'log-streaming' }),
        metrics: this.metrics,
        backoff: this.#o.backoff ?? { initialMs: 1000, factor: 1.5, maxMs: 30_000, jitter: 0.2 },
        connectTimeoutMs: this.#o.connectTimeoutMs ?? 10_000,
      });
    } catch (err) {
      // The configuration is already in force: a receiver whose spool cannot be opened is
      // reported and left out rather than failing the whole generation.
      const error = logStreamErrors.spoolFailed(spec.name, spoolDir, err);
      this.#o.logger.error({ code: error.code, err: error.message }, 'log receiver not started');
      return;
    }
    this.#sinks.set(spec.name, sink);
    sink.start();
  }

  /** Each receiver's connection state and backlog. */
  status(): ReceiverBacklog[] {
    return [...this.#sinks.values()].map((s) => s.backlog());
  }

  /**
   * Stops: each receiver gets up to `flushTimeoutMs` (default 2000) to take its backlog; what
   * is left stays in the disk spool for the next start.
   */
  async close(options: { flushTimeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const flushMs = options.flushTimeoutMs ?? 2000;
    await Promise.all([...this.#sinks.values()].map((s) => s.close(flushMs)));
    this.#sinks.clear();
  }

  /** Spools of receivers that were removed while the edge was down are deleted at the first configure. */
  #removeOrphanSpools(keep: ReadonlySet<string>): void {
    let names: string[] = [];
    try {
      names = readdirSync(this.#o.spoolDir);
    } catch {
      return;
    }
    for (const name of names) {
      if (keep.has(name)) continue;
      rmSync(join(this.#o.spoolDir, name), { recursive: true, force: true });
      this.#o.logger.warn(
        { receiver: name },
        'dropped the spool of a log receiver that no longer exists',
      );
    }
  }
}

function makeRecord(type: LogType, fields: LogFields, now: number): LogRecord {
  const record: Record<string, LogValue> = { type, time: new Date(now).toISOString() };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || key === 'type') continue;
    record[key] = value;
  }
  return record as LogRecord;
}
