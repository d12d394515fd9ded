import { controlErrors } from './errors.js';

/** Items per page when `?limit=` is not given. */
export const DEFAULT_PAGE_LIMIT = 100;
/** The largest `?limit=` accepted. */
export const MAX_PAGE_LIMIT = 1000;

/** A page of a list endpoint; `next_page_token` is absent on the last page. */
export interface Page<T> {
  readonly items: T[];
  readonly next_page_token?: string;
}

/** The query parameters every list endpoint takes. */
export interface PageQuery {
  readonly limit?: string | undefined;
  readonly page_token?: string | undefined;
}

/** Where the previous page ended: the list it belongs to, its last key and that key's index. */
interface Cursor {
  readonly l: string;
  readonly k: string;
  readonly i: number;
}

/** Parses `?limit=`: an integer from 1 to 1000, default 100. */
export function pageLimit(query: PageQuery): number {
  if (query.limit === undefined || query.limit === '') return DEFAULT_PAGE_LIMIT;
  const limit = Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw controlErrors.badRequest(
      `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}, not "${query.limit}"`,
    );
  }
  return limit;
}

/** Encodes an opaque page token (base64url JSON; clients must not look inside). */
export function encodePageToken(list: string, key: string, index = 0): string {
  return Buffer.from(JSON.stringify({ l: list, k: key, i: index } satisfies Cursor)).toString(
    'base64url',
  );
}

/** Decodes a page token of `list`; POSTERN_ERR_INVALID_PAGE_TOKEN when it is not one. */
export function decodePageToken(list: string, token: string): { key: string; index: number } {
  let cursor: Partial<Cursor>;
  try {
    cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Cursor>;
  } catch {
    throw controlErrors.invalidPageToken(list);
  }
  if (
    cursor === null ||
    typeof cursor !== 'object' ||
    cursor.l !== list ||
    typeof cursor.k !== 'string' ||
    typeof cursor.i !== 'number'
  ) {
    throw controlErrors.invalidPageToken(list);
  }
  return { key: cursor.k, index: cursor.i };
}

/** How {@link paginate} orders and resumes a list. */
export interface PaginateOptions<T> {
  /** Names the list in its tokens, so a token of one list is refused by another. */
  readonly list: string;
  /** The stable key of an item (its name or id). */
  readonly key: (item: T) => string;
  /**
   * `key` (default): items are sorted by key and a page resumes after the last key, so
   * inserts and deletes between pages neither repeat nor skip items. `given`: the items' own
   * order is kept (an explicit order such as access policies'); a page resumes after the last
   * key, or at its old position when that item is gone.
   */
  readonly order?: 'key' | 'given';
}

/** One page of an in-memory list, for `?limit=` and `?page_token=`. */
export function paginate<T>(
  all: readonly T[],
  query: PageQuery,
  options: PaginateOptions<T>,
): Page<T> {
  const limit = pageLimit(query);
  const { key, list } = options;
  const byKey = (options.order ?? 'key') === 'key';
  const items = byKey ? [...all].sort((a, b) => compareKeys(key(a), key(b))) : [...all];
  let start = 0;
  if (query.page_token) {
    const cursor = decodePageToken(list, query.page_token);
    if (byKey) {
      start = items.findIndex((item) => compareKeys(key(item), cursor.key) > 0);
      if (start < 0) start = items.length;
    } else {
      const at = items.findIndex((item) => key(item) === cursor.key);
      start = at >= 0 ? at + 1 : Math.min(cursor.index + 1, items.length);
    }
  }
  const page = items.slice(start, start + limit);
  const last = page[page.length - 1];
  const more = start + limit < items.length && last !== undefined;
  return more
    ? { items: page, next_page_token: encodePageToken(list, key(last), start + page.length - 1) }
    : { items: page };
}

/** Orders keys by code point, the same on every platform (unlike localeCompare). */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
