import { Counter, Gauge, Registry } from 'prom-client';
import type { DropReason } from './receiver-queue.js';

/** What the metrics read from each receiver when scraped. */
export interface ReceiverBacklog {
  readonly name: string;
  readonly connected: boolean;
  readonly memoryRecords: number;
  readonly memoryBytes: number;
  readonly spoolRecords: number;
  readonly spoolBytes: number;
}

/** Log streaming's Prometheus metrics: backlog, delivered, dropped and connected, by receiver. */
export class LogStreamMetrics {
  readonly registry: Registry;
  readonly #delivered: Counter<'receiver'>;
  readonly #dropped: Counter<'receiver' | 'reason'>;

  constructor(registry: Registry | undefined, backlog: () => readonly ReceiverBacklog[]) {
    this.registry = registry ?? new Registry();
    const registers = [this.registry];
    this.#delivered = new Counter({
      name: 'postern_edge_log_stream_delivered_total',
      help: 'Log records written to a log receiver, by receiver.',
      labelNames: ['receiver'] as const,
      registers,
    });
    this.#dropped = new Counter({
      name: 'postern_edge_log_stream_dropped_total',
      help: 'Log records dropped instead of delivered, by receiver and reason (memory_full, spool_full, expired, spool_error, removed, shutdown).',
      labelNames: ['receiver', 'reason'] as const,
      registers,
    });
    new Gauge({
      name: 'postern_edge_log_stream_backlog_records',
      help: 'Log records waiting for a receiver, by receiver and place (memory, spool).',
      labelNames: ['receiver', 'place'] as const,
      registers,
      collect() {
        this.reset();
        for (const b of backlog()) {
          this.set({ receiver: b.name, place: 'memory' }, b.memoryRecords);
          this.set({ receiver: b.name, place: 'spool' }, b.spoolRecords);
        }
      },
    });
    new Gauge({
      name: 'postern_edge_log_stream_backlog_bytes',
      help: 'Bytes of log records waiting for a receiver, by receiver and place (memory, spool).',
      labelNames: ['receiver', 'place'] as const,
      registers,
      collect() {
        this.reset();
        for (const b of backlog()) {
          this.set({ receiver: b.name, place: 'memory' }, b.memoryBytes);
          this.set({ receiver: b.name, place: 'spool' }, b.spoolBytes);
        }
      },
    });
    new Gauge({
      name: 'postern_edge_log_stream_connected',
      help: '1 while the edge holds a connection to the log receiver, else 0.',
      labelNames: ['receiver'] as const,
      registers,
      collect() {
        this.reset();
        for (const b of backlog()) this.set({ receiver: b.name }, b.connected ? 1 : 0);
      },
    });
  }

  /** Counts records written to a receiver. */
  delivered(receiver: string, records: number): void {
    this.#delivered.inc({ receiver }, records);
  }

  /** Counts dropped records. */
  dropped(receiver: string, reason: DropReason, records: number): void {
    this.#dropped.inc({ receiver, reason }, records);
  }
}
