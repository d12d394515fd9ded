import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { ChangeFeed, StoreChange } from './store.js';

/** The PostgreSQL channel every edge of one database listens on. */
export const CHANGE_CHANNEL = 'postern_changes';

const buses = new Map<string, { bus: EventEmitter; users: number }>();

/**
 * An in-process change feed: store handles opened on the same database file in one process
 * share a bus (an embedded store belongs to one process, so that is everyone).
 */
export class LocalChangeFeed implements ChangeFeed {
  readonly scope = 'process' as const;
  readonly #key: string;
  readonly #bus: EventEmitter;
  #closed = false;

  /** `key` names the database (its file); handles with the same key hear each other. */
  constructor(key: string) {
    this.#key = key;
    const entry = buses.get(key) ?? { bus: new EventEmitter(), users: 0 };
    entry.bus.setMaxListeners(0);
    entry.users += 1;
    buses.set(key, entry);
    this.#bus = entry.bus;
  }

  publish(change: StoreChange): Promise<void> {
    const copy = { topic: change.topic, origin: change.origin };
    // Asynchronous like a real notification: a publisher never re-enters its own listener.
    queueMicrotask(() => this.#bus.emit('change', copy));
    return Promise.resolve();
  }

  subscribe(listener: (change: StoreChange) => void): () => void {
    this.#bus.on('change', listener);
    return () => this.#bus.off('change', listener);
  }

  /** Detaches from the shared bus. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const entry = buses.get(this.#key);
    if (entry && --entry.users === 0) buses.delete(this.#key);
  }
}

/**
 * PostgreSQL LISTEN/NOTIFY: one dedicated connection listens (opened at the first subscriber,
 * re-opened after a failure), announcements go out through the pool with pg_notify.
 */
export class PostgresChangeFeed implements ChangeFeed {
  readonly scope = 'cluster' as const;
  readonly #pool: pg.Pool;
  readonly #connectionString: string;
  readonly #reconnectMs: number;
  readonly #bus = new EventEmitter();
  #client: pg.Client | undefined;
  /** Settles once the listening connection is up (or failed), so own announcements are heard. */
  #listening: Promise<void> = Promise.resolve();
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(pool: pg.Pool, options: { connectionString: string; reconnectMs?: number }) {
    this.#pool = pool;
    this.#connectionString = options.connectionString;
    this.#reconnectMs = options.reconnectMs ?? 1000;
    this.#bus.setMaxListeners(0);
  }

  async publish(change: StoreChange): Promise<void> {
    const payload = JSON.stringify({ topic: change.topic, origin: change.origin });
    await this.#listening;
    await this.#pool.query('select pg_notify($1, $2)', [CHANGE_CHANNEL, payload]);
  }

  subscribe(listener: (change: StoreChange) => void): () => void {
    this.#bus.on('change', listener);
    if (this.#client === undefined && this.#retry === undefined) this.#listening = this.#listen();
    return () => this.#bus.off('change', listener);
  }

  /** Ends the listening connection. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.#connectionString });
    this.#client = client;
    client.on('notification', (msg) => this.#deliver(msg.payload));
    // A dropped connection means lost notifications until we are back: tell listeners so
    // they re-read everything, then listen again.
    client.on('error', () => this.#restart(client));
    client.on('end', () => this.#restart(client));
    try {
      await client.connect();
      await client.query(`listen ${CHANGE_CHANNEL}`);
    } catch {
      this.#restart(client);
    }
  }

  #restart(client: pg.Client): void {
    if (this.#client !== client || this.#closed) return;
    this.#client = undefined;
    void client.end().catch(() => undefined);
    this.#bus.emit('change', { topic: 'resync', origin: '' });
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#listening = this.#listen();
    }, this.#reconnectMs);
    this.#retry.unref();
  }

  #deliver(payload: string | undefined): void {
    try {
      const value = JSON.parse(payload ?? '') as { topic?: unknown; origin?: unknown };
      if (typeof value.topic !== 'string') return;
      const origin = typeof value.origin === 'string' ? value.origin : '';
      this.#bus.emit('change', { topic: value.topic, origin });
    } catch {
      // Someone else's payload on our channel: not ours to act on.
    }
  }
}
