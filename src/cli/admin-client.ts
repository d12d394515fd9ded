import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PosternError } from '../core/index.js';

/** Flags every admin command shares. */
export interface AdminFlags {
  admin?: string;
  token?: string;
  dataDir?: string;
}

/** A small client for the edge's admin API; errors carry the API's POSTERN_ERR code. */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  /** Resolves URL and token from flags, the environment, or a local data dir. */
  static async fromFlags(flags: AdminFlags): Promise<AdminClient> {
    const dir = flags.dataDir ?? process.env.POSTERN_DATA_DIR ?? './postern-data';
    // A local edge records where its admin API listens next to its token.
    const recorded = await readFile(join(dir, 'admin-url'), 'utf8').then(
      (text) => text.trim(),
      () => undefined,
    );
    const url = flags.admin ?? process.env.POSTERN_ADMIN_URL ?? recorded ?? 'http://127.0.0.1:9090';
    let token = flags.token ?? process.env.POSTERN_ADMIN_TOKEN;
    if (!token) {
      try {
        token = (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
      } catch {
        throw new PosternError(
          'POSTERN_ERR_UNAUTHORIZED',
          `No admin token: pass --token, set POSTERN_ADMIN_TOKEN, or run where ${join(dir, 'admin-token')} is readable (--data-dir).`,
        );
      }
    }
    return new AdminClient(url.replace(/\/$/, ''), token);
  }

  /** Every item of a paginated list, following `next_page_token` (at most `maxPages` pages). */
  async list<T>(path: string, maxPages = 1000): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const at =
        token === undefined ? path : `${path}${sep}page_token=${encodeURIComponent(token)}`;
      const result = await this.request<{ items: T[]; next_page_token?: string }>('GET', at);
      items.push(...result.items);
      token = result.next_page_token;
      if (token === undefined) return items;
    }
    return items;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new PosternError(
        'POSTERN_ERR_EDGE_UNREACHABLE',
        `Cannot reach the admin API at ${this.baseUrl}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}. Is the edge running? Pass its admin URL with --admin (env POSTERN_ADMIN_URL), or --data-dir DIR of a local edge: its admin-url file says where the admin API listens.`,
      );
    }
    if (response.status === 204) return undefined as T;
    const payload = (await response.json().catch(() => ({}))) as {
      error?: { code: string; message: string };
    };
    if (!response.ok) {
      throw new PosternError(
        payload.error?.code ?? 'POSTERN_ERR_PEER',
        payload.error?.message ?? `HTTP ${response.status}`,
      );
    }
    return payload as T;
  }
}
