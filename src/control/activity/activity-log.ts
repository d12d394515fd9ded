import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { systemClock, type Clock } from '../../core/index.js';
import type { ActivityEntry, ActivityInput } from './activity-entry.js';

/** How an {@link ActivityLog} keeps and publishes records. */
export interface ActivityLogOptions {
  /** Most records kept in memory; older ones are dropped first. Default 10,000. */
  readonly capacity?: number;
  /** Every record is also written here at info level (message `user activity`). */
  readonly logger?: Logger | undefined;
  /** Registers `postern_access_decisions_total{action,client_type}` here when given. */
  readonly registry?: Registry | undefined;
  readonly clock?: Clock;
}

/** One page of records, newest first. */
export interface ActivityPage {
  readonly items: readonly ActivityEntry[];
  /** Pass as `pageToken` to get the next (older) page; absent on the last page. */
  readonly nextPageToken?: string;
  /**
   * Set when the page is partial (the shared store could not be read, so it holds only this
   * edge's records from memory): says why and what it holds.
   */
  readonly warning?: string;
}

/** Which page {@link ActivityLog.page} and {@link ActivityLog.query} return. */
export interface ActivityPageOptions {
  /** Most records; default 100, at most 1000. */
  readonly limit?: number;
  /** A `nextPageToken` from an earlier page. */
  readonly pageToken?: string;
}

/** Where {@link ActivityLog.query} reads when set: the log every edge shares (ActivityHistory). */
export interface ActivityReader {
  page(options: ActivityPageOptions): Promise<ActivityPage>;
  isPageToken(token: string): boolean;
}

/** A subscriber to new records; returns a function that unsubscribes. */
export type ActivitySubscriber = (entry: ActivityEntry) => void;

/**
 * The user activity log of one edge: every access decision and every session end, kept in a
 * bounded ring (newest first when read), written to the edge's log, counted by action, and
 * handed to subscribers (log streaming). Subscribers that throw do not stop the others.
 * With a reader attached ({@link readFrom}, an edge's ActivityHistory) queries read the store
 * every edge shares instead of the ring.
 */
export class ActivityLog {
  readonly #capacity: number;
  readonly #ring: (ActivityEntry | undefined)[];
  readonly #log: Logger | undefined;
  readonly #clock: Clock;
  readonly #subscribers = new Set<ActivitySubscriber>();
  readonly #decisions: Counter<'action' | 'client_type'> | undefined;
  #reader: ActivityReader | undefined;
  #seq = 0;

  constructor(options: ActivityLogOptions = {}) {
    this.#capacity = Math.max(1, Math.floor(options.capacity ?? 10_000));
    this.#ring = new Array<ActivityEntry | undefined>(this.#capacity);
    this.#log = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#decisions = options.registry
      ? new Counter({
          name: 'postern_access_decisions_total',
          help: 'Access decisions (access proxy and browser), by action (allow, deny) and client type.',
          labelNames: ['action', 'client_type'] as const,
          registers: [options.registry],
        })
      : undefined;
  }

  /** Number of records held in memory. */
  get size(): number {
    return Math.min(this.#seq, this.#capacity);
  }

  /** Appends a record, logs it, counts decisions and tells subscribers; returns the stored entry. */
  record(input: ActivityInput): ActivityEntry {
    this.#seq += 1;
    const entry: ActivityEntry = Object.freeze({
      ...input,
      groups: Object.freeze([...input.groups]),
      seq: this.#seq,
      time: input.time ?? new Date(this.#clock.now()).toISOString(),
    });
    this.#ring[this.#seq % this.#capacity] = entry;
    if (entry.kind === 'decision') {
      this.#decisions?.inc({ action: entry.action, client_type: entry.clientType });
    }
    this.#log?.info({ activity: entry }, 'user activity');
    for (const subscriber of this.#subscribers) {
      try {
        subscriber(entry);
      } catch (err) {
        this.#log?.warn({ err }, 'an activity subscriber failed');
      }
    }
    return entry;
  }

  /** Calls `subscriber` with every new record until the returned function is called. */
  onRecord(subscriber: ActivitySubscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /**
   * Records newest first: at most `limit` (default 100, at most 1000), starting below the
   * sequence number in `pageToken`. A token older than the ring continues with what is left.
   */
  page(options: ActivityPageOptions = {}): ActivityPage {
    const limit = Math.min(Math.max(Math.floor(options.limit ?? 100), 1), 1000);
    const oldest = this.#seq - this.size + 1;
    const below = options.pageToken === undefined ? this.#seq + 1 : Number(options.pageToken);
    const items: ActivityEntry[] = [];
    let seq = Math.min(below - 1, this.#seq);
    for (; seq >= oldest && items.length < limit; seq--) {
      const entry = this.#ring[seq % this.#capacity];
      if (entry !== undefined) items.push(entry);
    }
    return seq >= oldest && items.length > 0
      ? { items, nextPageToken: String(seq + 1) }
      : { items };
  }

  /** Makes {@link query} read from `reader` (the shared store), or from the ring when undefined. */
  readFrom(reader: ActivityReader | undefined): void {
    this.#reader = reader;
  }

  /** A page newest first, from the reader set by {@link readFrom}, else from the ring. */
  query(options: ActivityPageOptions = {}): Promise<ActivityPage> {
    return this.#reader ? this.#reader.page(options) : Promise.resolve(this.page(options));
  }

  /** True when {@link query} could have issued `token`. */
  acceptsPageToken(token: string): boolean {
    return this.#reader ? this.#reader.isPageToken(token) : ActivityLog.isPageToken(token);
  }

  /** True when `token` is a page token this log could have issued. */
  static isPageToken(token: string): boolean {
    return /^[1-9][0-9]{0,15}$/.test(token);
  }
}
