import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { controlErrors } from '../errors.js';
import type { ActivityEntry } from './activity-entry.js';
import type { ActivityLog, ActivityPage, ActivityPageOptions } from './activity-log.js';

/**
 * Page tokens of answers from an edge's memory: `local-<writer tag>-<sequence number>`. The
 * writer tag is random per start, so a token from another edge or an earlier run is told apart
 * from one this history issued; the `local-` prefix keeps them apart from store tokens.
 */
const LOCAL_TOKEN = /^local-([0-9a-f]{8})-([1-9][0-9]{0,15})$/;

/** Longest store failure reason put in a warning or a log line. */
const MAX_REASON = 200;

/** How {@link localPage} reads and labels this edge's records. */
export interface LocalPageOptions extends ActivityPageOptions {
  /** This edge's server id, set as `edge` on its records. */
  readonly serverId: string;
  /** The writer tag of the history answering, put in its page tokens. */
  readonly writer: string;
  /** Why the store could not be read, from {@link storeFailureReason}. */
  readonly reason: string;
}

/** Who an {@link ActivityReadFallback} answers for, and where it reports failures. */
export interface ActivityReadFallbackOptions {
  /** This edge's server id, set as `edge` on its records. */
  readonly serverId: string;
  /** The writer tag of the history it serves, put in its page tokens. */
  readonly writer: string;
  readonly logger?: Logger | undefined;
  /** `postern_activity_store_read_failures_total`, counted on every failed read. */
  readonly failures?: Counter | undefined;
}

/**
 * What a shared activity history does when a read of the store fails: counts it, warns once
 * per streak of failures (no secrets: only a short reason), and answers with this edge's own
 * records from the ring of the log it was attached to.
 */
export class ActivityReadFallback {
  readonly #o: ActivityReadFallbackOptions;
  #local: ActivityLog | undefined;
  /** Set by a failed read, cleared by the next good one: the first failure of a streak warns. */
  #failing = false;

  constructor(options: ActivityReadFallbackOptions) {
    this.#o = options;
  }

  /** Answers from `log`'s ring from now on; until then failed reads are rethrown. */
  attach(log: ActivityLog): void {
    this.#local = log;
  }

  /**
   * The page for a read that failed with `err`: this edge's records from memory, or `err` again
   * when no log is attached, or a bad request for a store page token (the store cannot go on).
   */
  answer(err: unknown, options: ActivityPageOptions): ActivityPage {
    const reason = storeFailureReason(err);
    this.#o.failures?.inc();
    if (!this.#failing) {
      this.#o.logger?.warn(
        { reason },
        "activity store read failed; answering from this edge's memory",
      );
    }
    this.#failing = true;
    if (this.#local === undefined) throw err;
    const token = options.pageToken;
    if (token !== undefined && !isLocalPageToken(token)) {
      throw controlErrors.badRequest(
        `page_token "${token}" pages the shared store, which cannot be read now (${reason}); ` +
          "start again without page_token to see this edge's own records",
      );
    }
    return localPage(this.#local, {
      ...options,
      serverId: this.#o.serverId,
      writer: this.#o.writer,
      reason,
    });
  }

  /** Notes a good read: the next failure warns again. */
  recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#o.logger?.info('activity store reads are back');
  }
}

/** True for a page token {@link localPage} could have issued, on any edge or in any run. */
export function isLocalPageToken(token: string): boolean {
  return LOCAL_TOKEN.test(token);
}

/** The store failure's message, one short line without credentials, for warnings and logs. */
export function storeFailureReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = (message.split('\n', 1)[0] ?? '').trim();
  // A driver may quote a connection URL; its password must reach neither the API nor the log.
  const safe = line.replace(/(\/\/[^/\s:@]*:)[^@\s/]*@/g, '$1***@');
  const text = safe === '' ? 'unknown error' : safe;
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

/**
 * This edge's own records from its in-memory ring, newest first, for when the shared store
 * cannot be read: each carries `edge`, page tokens are `local-…`, and the page has a warning
 * saying it is partial. A local token of another edge or run is a bad request.
 */
export function localPage(log: ActivityLog, options: LocalPageOptions): ActivityPage {
  const below = options.pageToken === undefined ? undefined : localSeq(options);
  const page = log.page({
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(below === undefined ? {} : { pageToken: below }),
  });
  const items = page.items.map((e): ActivityEntry =>
    e.edge === undefined ? Object.freeze({ ...e, edge: options.serverId }) : e,
  );
  const warning =
    `the shared store could not be read (${options.reason}); showing only this edge's ` +
    `${log.size} most recent records from memory`;
  return page.nextPageToken === undefined
    ? { items, warning }
    : { items, warning, nextPageToken: `local-${options.writer}-${page.nextPageToken}` };
}

/** The sequence number a local page token continues below, checked to be this history's. */
function localSeq(options: LocalPageOptions): string {
  const token = options.pageToken ?? '';
  const match = LOCAL_TOKEN.exec(token);
  if (match === null) {
    throw controlErrors.badRequest(
      `page_token "${token}" is not one this API returned; start again without it`,
    );
  }
  if (match[1] !== options.writer) {
    throw controlErrors.badRequest(
      `page_token "${token}" lists the memory of another edge or of an earlier run of this ` +
        'one; start again without page_token',
    );
  }
  return match[2] ?? '';
}
