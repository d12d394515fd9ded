import type { Clock } from '../../core/index.js';
import type { DiskSpool, SpoolEntry } from './disk-spool.js';

/** Why records were dropped instead of delivered. */
export type DropReason =
  'memory_full' | 'spool_full' | 'expired' | 'spool_error' | 'removed' | 'shutdown';

/** Options of {@link ReceiverQueue}. */
export interface ReceiverQueueOptions {
  /** Records held in memory before the oldest move to the spool (or are dropped without one). */
  readonly memoryRecords: number;
  /** Bytes held in memory, likewise. */
  readonly memoryBytes: number;
  /** Records older than this are dropped when they reach the head. */
  readonly windowMs: number;
  readonly clock: Clock;
  /** The disk spool; without one, memory overflow drops the oldest records. */
  readonly spool?: DiskSpool | undefined;
  /** Told about every drop (for the metric and the log). */
  readonly onDrop: (reason: DropReason, records: number, bytes: number) => void;
  /** Told when the spool fails; the records concerned are dropped. */
  readonly onSpoolError?: ((err: unknown) => void) | undefined;
}

/** Backlog of a queue, in memory and on disk. */
export interface QueueStats {
  readonly memoryRecords: number;
  readonly memoryBytes: number;
  readonly spoolRecords: number;
  readonly spoolBytes: number;
}

/**
 * One receiver's ordered queue: records taken back after a failed write (`putBack`), then the
 * disk spool (older), then memory (newer). Memory is bounded in records and bytes; when full,
 * its oldest half moves to the spool's tail, which keeps the order. The spool is bounded in
 * bytes and drops its oldest segments. Records older than the window are dropped at the head.
 */
export class ReceiverQueue {
  readonly #o: ReceiverQueueOptions;
  #retry: SpoolEntry[] = [];
  #memory: SpoolEntry[] = [];
  #memoryStart = 0;
  #memoryBytes = 0;
  #retryBytes = 0;

  constructor(options: ReceiverQueueOptions) {
    this.#o = options;
  }

  /** Records waiting, everywhere. */
  get size(): number {
    return this.#retry.length + this.#memoryCount + (this.#o.spool?.records ?? 0);
  }

  /** The backlog split by place; records put back count as memory. */
  stats(): QueueStats {
    return {
      memoryRecords: this.#retry.length + this.#memoryCount,
      memoryBytes: this.#retryBytes + this.#memoryBytes,
      spoolRecords: this.#o.spool?.records ?? 0,
      spoolBytes: this.#o.spool?.bytes ?? 0,
    };
  }

  /** Adds a record (its JSON text) at the tail. */
  push(data: string): void {
    this.#memory.push({ time: this.#o.clock.now(), data });
    this.#memoryBytes += byteSize(data);
    if (this.#memoryCount > this.#o.memoryRecords || this.#memoryBytes > this.#o.memoryBytes) {
      this.#overflow();
    }
  }

  /** Removes and returns the oldest records (at most `maxRecords`, about `maxBytes`), in order. */
  take(maxRecords: number, maxBytes: number): SpoolEntry[] {
    this.#expire();
    const out: SpoolEntry[] = [];
    let bytes = 0;
    const room = (): boolean => out.length < maxRecords && bytes < maxBytes;
    const cutoff = this.#cutoff();
    const keep = (entry: SpoolEntry): void => {
      const size = byteSize(entry.data);
      if (entry.time < cutoff) return this.#o.onDrop('expired', 1, size);
      out.push(entry);
      bytes += size;
    };
    while (room() && this.#retry.length > 0) {
      const entry = this.#retry.shift()!;
      this.#retryBytes -= byteSize(entry.data);
      keep(entry);
    }
    while (room() && (this.#o.spool?.records ?? 0) > 0) {
      const batch = this.#spoolTake(maxRecords - out.length, maxBytes - bytes);
      if (batch.length === 0) break;
      for (const entry of batch) keep(entry);
    }
    while (room() && this.#memoryCount > 0) {
      const entry = this.#shiftMemory()!;
      keep(entry);
    }
    return out;
  }

  /** Puts records that could not be delivered back at the head, in their order. */
  putBack(entries: readonly SpoolEntry[]): void {
    this.#retry = [...entries, ...this.#retry];
    for (const e of entries) this.#retryBytes += byteSize(e.data);
  }

  /**
   * Moves everything in memory to the spool, records put back first (at shutdown, so a
   * restart delivers them). Without a spool they are dropped (reason `shutdown`).
   */
  persist(): void {
    const spool = this.#o.spool;
    if (!spool) {
      const { memoryRecords, memoryBytes } = this.stats();
      this.#retry = [];
      this.#retryBytes = 0;
      this.#drainMemory();
      if (memoryRecords > 0) this.#o.onDrop('shutdown', memoryRecords, memoryBytes);
      return;
    }
    try {
      spool.prepend(this.#retry);
      this.#retry = [];
      this.#retryBytes = 0;
      this.#append(this.#drainMemory());
    } catch (err) {
      this.#o.onSpoolError?.(err);
    }
  }

  /** Drops every record (the receiver was removed) and reports them. */
  discard(): void {
    const { memoryRecords, memoryBytes, spoolRecords, spoolBytes } = this.stats();
    this.#retry = [];
    this.#retryBytes = 0;
    this.#drainMemory();
    this.#o.spool?.destroy();
    const records = memoryRecords + spoolRecords;
    if (records > 0) this.#o.onDrop('removed', records, memoryBytes + spoolBytes);
  }

  get #memoryCount(): number {
    return this.#memory.length - this.#memoryStart;
  }

  #cutoff(): number {
    return this.#o.clock.now() - this.#o.windowMs;
  }

  #expire(): void {
    const spool = this.#o.spool;
    if (!spool) return;
    const dropped = spool.dropOlderThan(this.#cutoff());
    if (dropped.records > 0) this.#o.onDrop('expired', dropped.records, dropped.bytes);
  }

  #overflow(): void {
    // Half of memory moves at once, so that the spool is written in batches.
    const targetRecords = Math.floor(this.#o.memoryRecords / 2);
    const targetBytes = Math.floor(this.#o.memoryBytes / 2);
    const moved: SpoolEntry[] = [];
    let movedBytes = 0;
    while (
      this.#memoryCount > 0 &&
      (this.#memoryCount > targetRecords || this.#memoryBytes > targetBytes)
    ) {
      const entry = this.#shiftMemory()!;
      moved.push(entry);
      movedBytes += byteSize(entry.data);
    }
    if (!this.#o.spool) {
      this.#o.onDrop('memory_full', moved.length, movedBytes);
      return;
    }
    this.#append(moved);
  }

  #append(entries: SpoolEntry[]): void {
    if (entries.length === 0 || !this.#o.spool) return;
    try {
      const dropped = this.#o.spool.append(entries);
      if (dropped.records > 0) this.#o.onDrop('spool_full', dropped.records, dropped.bytes);
    } catch (err) {
      this.#o.onSpoolError?.(err);
      const bytes = entries.reduce((n, e) => n + byteSize(e.data), 0);
      this.#o.onDrop('spool_error', entries.length, bytes);
    }
  }

  #spoolTake(maxRecords: number, maxBytes: number): SpoolEntry[] {
    try {
      return this.#o.spool?.take(maxRecords, maxBytes) ?? [];
    } catch (err) {
      this.#o.onSpoolError?.(err);
      return [];
    }
  }

  #shiftMemory(): SpoolEntry | undefined {
    const entry = this.#memory[this.#memoryStart];
    if (entry === undefined) return undefined;
    this.#memoryStart += 1;
    this.#memoryBytes -= byteSize(entry.data);
    // Compact now and then rather than shifting the array on every take.
    if (this.#memoryStart > 1024 && this.#memoryStart * 2 > this.#memory.length) {
      this.#memory = this.#memory.slice(this.#memoryStart);
      this.#memoryStart = 0;
    }
    return entry;
  }

  #drainMemory(): SpoolEntry[] {
    const all = this.#memory.slice(this.#memoryStart);
    this.#memory = [];
    this.#memoryStart = 0;
    this.#memoryBytes = 0;
    return all;
  }
}

/** Bytes a record takes: its UTF-8 length and the line break. */
export function byteSize(data: string): number {
  return Buffer.byteLength(data) + 1;
}
