import type net from 'node:net';
import type { Logger } from 'pino';
import type { DeepReadonly, LogReceiver } from '../../config/index.js';
import { Backoff, type BackoffOptions, type Clock, type TimerHandle } from '../../core/index.js';
import { DiskSpool, type SpoolEntry } from './disk-spool.js';
import { logStreamErrors } from './errors.js';
import type { LogStreamMetrics, ReceiverBacklog } from './log-stream-metrics.js';
import type { LogRecord } from './log-types.js';
import { connectReceiver, connectionKey } from './receiver-connection.js';
import { receiverAccepts } from './record-filter.js';
import { csvHeader, formatRecord } from './record-format.js';
import { ReceiverQueue, type DropReason } from './receiver-queue.js';

/** A receiver as configured. */
export type ReceiverSpec = DeepReadonly<LogReceiver>;

/** What a sink needs besides its receiver. */
export interface ReceiverSinkOptions {
  /** This receiver's spool directory. */
  readonly spoolDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: LogStreamMetrics;
  readonly backoff: BackoffOptions;
  readonly connectTimeoutMs: number;
}

const BATCH_RECORDS = 512;
const BATCH_BYTES = 256 * 1024;
const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * One receiver: its queue, its connection and the delivery loop. One batch is written at a
 * time; it counts as delivered once the socket handed it to the kernel, and goes back to the
 * head of the queue when the write fails. A lost connection is retried with jittered backoff.
 */
export class ReceiverSink {
  readonly #o: ReceiverSinkOptions;
  readonly #log: Logger;
  readonly #queue: ReceiverQueue;
  readonly #spool: DiskSpool;
  readonly #backoff: Backoff;
  #spec: ReceiverSpec;
  #socket: net.Socket | undefined;
  #connecting = false;
  #inflight: SpoolEntry[] | undefined;
  #timer: TimerHandle | undefined;
  #epoch = 0;
  #closed = false;
  #failures = 0;
  #onIdle: (() => void) | undefined;
  readonly #drops = new Map<DropReason, number>();
  #dropLoggedAt = -Infinity;

  constructor(spec: ReceiverSpec, options: ReceiverSinkOptions) {
    this.#spec = spec;
    this.#o = options;
    this.#log = options.logger.child({ receiver: spec.name });
    this.#backoff = new Backoff(options.backoff);
    this.#spool = new DiskSpool(options.spoolDir, { maxBytes: spec.buffer.spool_bytes });
    this.#queue = new ReceiverQueue({
      memoryRecords: spec.buffer.memory_records,
      memoryBytes: spec.buffer.memory_bytes,
      windowMs: spec.buffer.spool_window_ms,
      clock: options.clock,
      spool: spec.buffer.spool_bytes > 0 ? this.#spool : undefined,
      onDrop: (reason, records) => this.#dropped(reason, records),
      onSpoolError: (err) =>
        this.#log.error(
          { err: logStreamErrors.spoolFailed(spec.name, options.spoolDir, err).message },
          'log spool failed',
        ),
    });
    if (this.#spool.records > 0) {
      this.#log.info({ records: this.#spool.records }, 'log records spooled by a previous run');
    }
  }

  /** The receiver's name. */
  get name(): string {
    return this.#spec.name;
  }

  /** The backlog and connection state, for metrics and status. */
  backlog(): ReceiverBacklog {
    return { name: this.name, connected: this.#socket !== undefined, ...this.#queue.stats() };
  }

  /** True when this receiver subscribes to the record and its filters let it through. */
  accepts(record: LogRecord): boolean {
    return receiverAccepts(this.#spec, record);
  }

  /** Queues a record (its JSON text) and sends it when connected. */
  enqueue(json: string): void {
    this.#queue.push(json);
    this.#pump();
  }

  /** Starts connecting. */
  start(): void {
    this.#connect();
  }

  /**
   * Takes a changed definition. The queue is kept (its limits are fixed at creation: change
   * them by renaming the receiver); a change of address, transport, TLS, format or log types
   * reconnects, so a CSV receiver gets a fresh header.
   */
  update(spec: ReceiverSpec): void {
    const reconnect = reconnectKey(spec) !== reconnectKey(this.#spec);
    this.#spec = spec;
    if (!reconnect) return;
    this.#log.info({ address: spec.address }, 'log receiver changed; reconnecting');
    this.#disconnect();
    this.#backoff.reset();
    this.#connect();
  }

  /**
   * Stops: delivers what it can for up to `flushMs` while connected, then keeps what is left in
   * the spool for the next start.
   */
  async close(flushMs: number): Promise<void> {
    if (this.#socket && this.#queue.size + (this.#inflight?.length ?? 0) > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#o.clock.setTimeout(resolve, flushMs);
        this.#onIdle = () => {
          this.#o.clock.clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#closed = true;
    this.#onIdle = undefined;
    if (this.#inflight) this.#queue.putBack(this.#inflight);
    this.#inflight = undefined;
    this.#disconnect();
    this.#queue.persist();
    this.#spool.close();
    this.#flushDropLog(true);
  }

  /** Stops and drops every queued record (the receiver was removed or disabled). */
  discard(): void {
    this.#closed = true;
    this.#inflight = undefined;
    this.#disconnect();
    this.#queue.discard();
    this.#flushDropLog(true);
  }

  #connect(): void {
    if (this.#closed || this.#connecting || this.#socket) return;
    this.#connecting = true;
    const epoch = ++this.#epoch;
    connectReceiver(this.#spec, { timeoutMs: this.#o.connectTimeoutMs }).then(
      (socket) => {
        if (epoch !== this.#epoch || this.#closed) {
          socket.destroy();
          return;
        }
        this.#connecting = false;
        this.#connected(socket);
      },
      (err: unknown) => {
        if (epoch !== this.#epoch) return;
        this.#connecting = false;
        const error = logStreamErrors.receiverUnreachable(this.name, this.#spec.address, err);
        // The first failure is a warning; repeats while it stays away are debug noise.
        this.#log[this.#failures === 0 ? 'warn' : 'debug'](
          { code: error.code, err: error.message, backlog: this.#queue.size },
          'log receiver unreachable',
        );
        this.#failures += 1;
        this.#retryLater();
      },
    );
  }

  #connected(socket: net.Socket): void {
    this.#socket = socket;
    this.#backoff.reset();
    this.#failures = 0;
    this.#log.info(
      { address: this.#spec.address, backlog: this.#queue.size },
      'log receiver connected',
    );
    socket.on('error', (err) => this.#lost(socket, err));
    socket.on('close', () => this.#lost(socket));
    // A receiver never speaks; its end of the stream means it went away.
    socket.on('end', () => this.#lost(socket));
    socket.on('data', () => undefined);
    socket.on('drain', () => this.#pump());
    if (this.#spec.format === 'csv') socket.write(csvHeader(this.#spec.log_types[0]!));
    this.#pump();
  }

  #lost(socket: net.Socket, err?: Error): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    socket.destroy();
    this.#log.warn(
      { err: err?.message, backlog: this.#queue.size },
      'log receiver connection lost; records wait in the queue',
    );
    this.#failures = 1;
    this.#retryLater();
  }

  #retryLater(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#connect();
    }, this.#backoff.next());
    this.#timer.unref?.();
  }

  #disconnect(): void {
    this.#epoch += 1;
    this.#connecting = false;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
  }

  #pump(): void {
    const socket = this.#socket;
    if (!socket || this.#inflight || socket.writableNeedDrain) return;
    const batch = this.#queue.take(BATCH_RECORDS, BATCH_BYTES);
    if (batch.length === 0) {
      this.#onIdle?.();
      return;
    }
    const text = batch.map((e) => formatRecord(this.#spec.format, e.data)).join('');
    this.#inflight = batch;
    socket.write(text, (err) => {
      if (this.#inflight !== batch) return;
      this.#inflight = undefined;
      if (err) {
        this.#queue.putBack(batch);
        this.#lost(socket, err);
        // A new connection may already be up (after a reconnect), waiting for this batch.
        this.#pump();
        return;
      }
      this.#o.metrics.delivered(this.name, batch.length);
      this.#pump();
    });
  }

  #dropped(reason: DropReason, records: number): void {
    this.#o.metrics.dropped(this.name, reason, records);
    this.#drops.set(reason, (this.#drops.get(reason) ?? 0) + records);
    this.#flushDropLog(false);
  }

  /** One log line per interval with the counts since the last, so drops cannot flood the log. */
  #flushDropLog(force: boolean): void {
    if (this.#drops.size === 0) return;
    const now = this.#o.clock.monotonic();
    if (!force && now - this.#dropLoggedAt < DROP_LOG_INTERVAL_MS) return;
    this.#dropLoggedAt = now;
    this.#log.warn(
      { dropped: Object.fromEntries(this.#drops) },
      'log records dropped instead of delivered (see reasons)',
    );
    this.#drops.clear();
  }
}

function reconnectKey(spec: ReceiverSpec): string {
  return JSON.stringify([connectionKey(spec), spec.format, spec.log_types]);
}
