import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { systemClock, type Clock, type TimerHandle } from '../../core/index.js';
import type { ActivityRepository } from '../../store/index.js';
import type { ActivityEntry } from './activity-entry.js';
import type {
  ActivityLog,
  ActivityPage,
  ActivityPageOptions,
  ActivityReader,
} from './activity-log.js';
import { activityRecord, entryOf } from './activity-record.js';
import { ActivityReadFallback, isLocalPageToken } from './activity-fallback.js';
import { controlErrors } from '../errors.js';
import type { ActivityRecord } from '../../store/index.js';

/** Default newest records kept in the store, over every edge. */
export const DEFAULT_ACTIVITY_RETENTION_ENTRIES = 100_000;
/** Default days records are kept in the store. */
export const DEFAULT_ACTIVITY_RETENTION_DAYS = 30;

const DAY_MS = 86_400_000;
/** Wait before writing again after a failed write, so a down store is not hammered. */
const RETRY_MS = 1000;

/** How an {@link ActivityHistory} writes, bounds and prunes the shared log. */
export interface ActivityHistoryOptions {
  /** This edge's server id, stored with each record and shown as `edge`. */
  readonly serverId: string;
  /** Longest an entry waits before it is written; default 250 ms. */
  readonly flushIntervalMs?: number | undefined;
  /** A batch this large is written at once; default 200. */
  readonly batchSize?: number | undefined;
  /** Most entries waiting while the store is slow or down; beyond it the oldest are dropped (counted). Default 20,000. */
  readonly maxPending?: number | undefined;
  /** Newest records the store keeps, over every edge; default 100,000. */
  readonly retentionEntries?: number | undefined;
  /** Days the store keeps records; default 30. */
  readonly retentionDays?: number | undefined;
  /** Time between prunes (the first runs at start); default 10 minutes. */
  readonly pruneIntervalMs?: number | undefined;
  /** Longest {@link ActivityHistory.close} waits for the last write; default 5 s. */
  readonly closeTimeoutMs?: number | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: Logger | undefined;
  /**
   * Registers `postern_activity_dropped_total`, `postern_activity_pending` and
   * `postern_activity_store_read_failures_total` here when given.
   */
  readonly registry?: Registry | undefined;
}

/** The options with their defaults applied. */
interface Settings {
  readonly flushIntervalMs: number;
  readonly batchSize: number;
  readonly maxPending: number;
  readonly retentionEntries: number;
  readonly retentionDays: number;
  readonly pruneIntervalMs: number;
  readonly closeTimeoutMs: number;
  readonly clock: Clock;
}

/**
 * The user activity log every edge shares through the store. Entries are written behind the
 * access path in batches (every `flushIntervalMs` or `batchSize` entries); `add` never blocks
 * or throws, and while the store is down entries wait in a bounded queue whose oldest are
 * dropped and counted. Reads (newest first, every edge) flush this edge's waiting entries first,
 * so an edge always lists what it recorded. A periodic prune bounds the table by count and age.
 * When the store cannot be read, reads answer with this edge's own records from its in-memory
 * ring instead, marked partial (see {@link page}).
 */
export class ActivityHistory implements ActivityReader {
  readonly #repo: ActivityRepository;
  readonly #serverId: string;
  /** Random per start, in every id, so two writers never make the same id. */
  readonly #writer = randomBytes(4).toString('hex');
  readonly #o: Settings;
  readonly #log: Logger | undefined;
  readonly #dropped: Counter | undefined;
  /** Answers reads from this edge's memory while the store cannot be read. */
  readonly #fallback: ActivityReadFallback;
  #pending: ActivityRecord[] = [];
  /** Entries of the batch being written. */
  #inFlight = 0;
  #flushTimer: TimerHandle | undefined;
  #pruneTimer: TimerHandle | undefined;
  #flushing: Promise<void> | undefined;
  #pruning: Promise<void> | undefined;
  /** Set by a failed write, cleared by the next good one: only the retry timer writes meanwhile. */
  #failing = false;
  /** Dropped since the last good write: the first drop warns, the next good write tells the total. */
  #droppedUnreported = 0;
  #stopRecording: (() => void) | undefined;
  #closed = false;

  constructor(repo: ActivityRepository, options: ActivityHistoryOptions) {
    this.#repo = repo;
    this.#serverId = options.serverId;
    this.#log = options.logger;
    this.#o = {
      flushIntervalMs: options.flushIntervalMs ?? 250,
      batchSize: Math.max(1, options.batchSize ?? 200),
      maxPending: Math.max(1, options.maxPending ?? 20_000),
      retentionEntries: Math.max(1, options.retentionEntries ?? DEFAULT_ACTIVITY_RETENTION_ENTRIES),
      retentionDays: options.retentionDays ?? DEFAULT_ACTIVITY_RETENTION_DAYS,
      pruneIntervalMs: options.pruneIntervalMs ?? 600_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 5000,
      clock: options.clock ?? systemClock,
    };
    const metrics = options.registry && this.#metrics(options.registry);
    this.#dropped = metrics?.dropped;
    this.#fallback = new ActivityReadFallback({
      serverId: this.#serverId,
      writer: this.#writer,
      logger: this.#log,
      failures: metrics?.readFailures,
    });
  }

  /** Entries waiting to be written. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Writes every entry `activity` records from now on and makes its queries read from here. */
  start(activity: ActivityLog): void {
    this.#stopRecording = activity.onRecord((entry) => this.add(entry));
    this.#fallback.attach(activity);
    activity.readFrom(this);
    this.#prune();
  }

  /** Queues an entry for the next batch; never blocks or throws. */
  add(entry: ActivityEntry): void {
    if (this.#closed) return;
    this.#pending.push(activityRecord(entry, { serverId: this.#serverId, writer: this.#writer }));
    this.#bound();
    // While the store fails only the retry timer writes, so a busy edge does not hammer it.
    if (this.#failing) return;
    if (this.#pending.length >= this.#o.batchSize) void this.flush();
    else this.#flushTimer ??= this.#timer(() => void this.flush(), this.#o.flushIntervalMs);
  }

  /** Writes every waiting entry; never rejects (a failure is logged and retried later). */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /**
   * Newest first over every edge, after writing this edge's waiting entries. When the store
   * cannot be read (and the history was started), this edge's own records from memory with a
   * warning and `local-…` page tokens. A token of the other kind than the store's state calls
   * for is a bad request that says to start again without it.
   */
  async page(options: ActivityPageOptions): Promise<ActivityPage> {
    // While writes fail, a read does not wait for another write attempt first (against an
    // unreachable server that is a connect timeout); it writes only once a read got through.
    const writesFailing = this.#failing;
    if (!writesFailing) await this.flush();
    const token = options.pageToken;
    const local = token !== undefined && isLocalPageToken(token);
    let page: ActivityPage | undefined;
    try {
      // A local token pages memory while the store is down: only ask whether it is back.
      if (local) await this.#repo.list({ limit: 1 });
      else page = await this.#storePage(options);
      if (writesFailing && page !== undefined) {
        await this.flush();
        page = await this.#storePage(options);
      }
    } catch (err) {
      return this.#fallback.answer(err, options);
    }
    this.#fallback.recovered();
    if (page === undefined) {
      throw controlErrors.badRequest(
        `page_token "${token}" pages this edge's memory, used while the shared store could not ` +
          'be read; the store is readable again, so start again without page_token',
      );
    }
    return page;
  }

  async #storePage(options: ActivityPageOptions): Promise<ActivityPage> {
    const limit = Math.min(Math.max(Math.floor(options.limit ?? 100), 1), 1000);
    const before = options.pageToken;
    const records = await this.#repo.list({ limit, ...(before === undefined ? {} : { before }) });
    const last = records.at(-1);
    // A full page has a next one only when something older exists: no empty last page.
    const more =
      records.length === limit &&
      last !== undefined &&
      (await this.#repo.list({ limit: 1, before: last.id })).length > 0;
    const items = records.map(entryOf);
    return more && last ? { items, nextPageToken: last.id } : { items };
  }

  /** True for an id of a stored record or a `local-…` token (the page tokens {@link page} issues). */
  isPageToken(token: string): boolean {
    return /^[0-9]{15}-[0-9a-f]{8}-[0-9]{10}$/.test(token) || isLocalPageToken(token);
  }

  /** Stops recording and pruning, then writes what waits (bounded by `closeTimeoutMs`). */
  async close(): Promise<void> {
    this.#stopRecording?.();
    this.#closed = true;
    this.#failing = false;
    this.#clear();
    let timer: TimerHandle | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = this.#o.clock.setTimeout(resolve, this.#o.closeTimeoutMs);
    });
    await Promise.race([Promise.all([this.#pruning, this.flush()]), timeout]);
    if (timer !== undefined) this.#o.clock.clearTimeout(timer);
    const lost = this.#pending.length + this.#inFlight;
    if (lost > 0) this.#log?.warn({ lost }, 'activity records not stored at shutdown');
  }

  async #drain(): Promise<void> {
    this.#clear('flush');
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#o.batchSize);
      this.#inFlight = batch.length;
      try {
        await this.#repo.append(batch);
      } catch (err) {
        this.#pending.unshift(...batch);
        this.#inFlight = 0;
        this.#bound();
        this.#failed(err);
        return;
      }
      this.#inFlight = 0;
      if (this.#failing || this.#droppedUnreported > 0) {
        this.#log?.info({ dropped: this.#droppedUnreported }, 'activity store writes caught up');
        this.#failing = false;
        this.#droppedUnreported = 0;
      }
    }
  }

  #failed(err: unknown): void {
    if (!this.#failing) {
      this.#log?.warn({ err, pending: this.#pending.length }, 'activity store write failed');
    }
    this.#failing = true;
    if (!this.#closed) this.#flushTimer ??= this.#timer(() => void this.flush(), RETRY_MS);
  }

  /** Drops the oldest waiting entries beyond `maxPending`, counting them. */
  #bound(): void {
    const excess = this.#pending.length - this.#o.maxPending;
    if (excess <= 0) return;
    this.#pending.splice(0, excess);
    this.#dropped?.inc(excess);
    if (this.#droppedUnreported === 0) {
      this.#log?.warn({ maxPending: this.#o.maxPending }, 'activity queue full, dropping oldest');
    }
    this.#droppedUnreported += excess;
  }

  #prune(): void {
    const now = this.#o.clock.now();
    this.#pruning = this.#repo
      .prune({
        olderThan: now - this.#o.retentionDays * DAY_MS,
        keep: this.#o.retentionEntries,
      })
      .then(
        (deleted) => {
          if (deleted > 0) this.#log?.debug({ deleted }, 'activity records pruned');
        },
        (err: unknown) => this.#log?.warn({ err }, 'activity prune failed'),
      )
      .finally(() => {
        this.#pruning = undefined;
        if (!this.#closed)
          this.#pruneTimer = this.#timer(() => this.#prune(), this.#o.pruneIntervalMs);
      });
  }

  #timer(fn: () => void, ms: number): TimerHandle {
    const handle = this.#o.clock.setTimeout(() => {
      if (handle === this.#flushTimer) this.#flushTimer = undefined;
      fn();
    }, ms);
    handle.unref?.();
    return handle;
  }

  #clear(which: 'flush' | 'all' = 'all'): void {
    if (this.#flushTimer !== undefined) this.#o.clock.clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (which === 'flush' || this.#pruneTimer === undefined) return;
    this.#o.clock.clearTimeout(this.#pruneTimer);
    this.#pruneTimer = undefined;
  }

  #metrics(registry: Registry): { dropped: Counter; readFailures: Counter } {
    const pending = (): number => this.#pending.length;
    new Gauge({
      name: 'postern_activity_pending',
      help: 'User activity records waiting to be written to the store.',
      registers: [registry],
      collect() {
        this.set(pending());
      },
    });
    const dropped = new Counter({
      name: 'postern_activity_dropped_total',
      help: 'User activity records dropped because the store stayed unavailable and the queue was full.',
      registers: [registry],
    });
    const readFailures = new Counter({
      name: 'postern_activity_store_read_failures_total',
      help: 'Reads of the user activity log from the shared store that failed.',
      registers: [registry],
    });
    return { dropped, readFailures };
  }
}
