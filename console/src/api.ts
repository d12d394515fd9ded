// The console's only way to the edge: the admin API on its own origin, with the admin token.

/** An answer of the admin API that was not a success, with its POSTERN_ERR_* code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problems: readonly unknown[];

  constructor(status: number, code: string, message: string, problems: readonly unknown[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = problems;
  }

  /**
   * True for a 404 from a list route: a list never 404s for being empty, so the edge does not
   * have that route (an older edge than this console).
   */
  get missingRoute(): boolean {
    return this.status === 404;
  }
}

/** A list response of the admin API. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next_page_token?: string;
  /** Set when the list is incomplete (e.g. activity while the shared store cannot be read). */
  readonly partial?: boolean;
  /** Says why the list is partial and what it holds. */
  readonly warning?: string;
}

const MAX_PAGES = 100;

/** Calls the admin API with the bearer token. */
export class Api {
  readonly #token: string;
  readonly #base = '/api/v1';
  readonly #onUnauthorized: (() => void) | undefined;

  /** `onUnauthorized` runs when the edge stops accepting the token (revoked, expired). */
  constructor(token: string, options: { onUnauthorized?: () => void } = {}) {
    this.#token = token;
    this.#onUnauthorized = options.onUnauthorized;
  }

  /**
   * Sends a request; resolves with the parsed body, rejects with an ApiError. `ifMatch` is the
   * object's `etag` as last read, so a change made meanwhile by someone else is refused (412).
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: { ifMatch?: string | undefined } = {},
  ): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.#base + path, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.ifMatch ? { 'if-match': options.ifMatch } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new ApiError(
        0,
        'NETWORK',
        `The edge did not answer (${err instanceof Error ? err.message : String(err)}). Check that it is running.`,
      );
    }
    const text = await res.text();
    const parsed = parseJson(text);
    if (res.status === 401) this.#onUnauthorized?.();
    if (!res.ok) throw toApiError(res.status, parsed, text);
    return parsed as T;
  }

  /** One page of a list; `token` is the previous page's `next_page_token`. */
  page<T>(path: string, token?: string): Promise<Page<T>> {
    const sep = path.includes('?') ? '&' : '?';
    const url = token === undefined ? path : `${path}${sep}page_token=${encodeURIComponent(token)}`;
    return this.request<Page<T>>('GET', url);
  }

  /** Every item of a list, following `next_page_token` (bounded). */
  async list<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.page<T>(path, token);
      items.push(...body.items);
      token = body.next_page_token;
      if (!token) return items;
    }
    return items;
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Reads both `{ error: { code, message } }` and a top-level `{ code, message }`. */
function toApiError(status: number, body: unknown, text: string): ApiError {
  const outer = (body ?? {}) as Record<string, unknown>;
  const inner =
    typeof outer.error === 'object' && outer.error !== null
      ? (outer.error as Record<string, unknown>)
      : outer;
  const code = typeof inner.code === 'string' ? inner.code : undefined;
  const message = typeof inner.message === 'string' ? inner.message : undefined;
  const problems = Array.isArray(inner.problems) ? (inner.problems as unknown[]) : [];
  if (code && code.startsWith('POSTERN_ERR_')) {
    return new ApiError(status, code, message ?? `HTTP ${status}`, problems);
  }
  // Fastify's own 404 for a route it does not have.
  if (status === 404) {
    return new ApiError(404, 'NOT_FOUND_ROUTE', message ?? 'This edge has no such API route.');
  }
  return new ApiError(
    status,
    code ?? `HTTP_${status}`,
    message ?? (text.slice(0, 200) || `HTTP ${status}`),
  );
}
