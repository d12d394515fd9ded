import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isPosternError } from '../../core/index.js';
import type { KubeConnection } from './kube-config.js';
import { kubernetesErrors } from './errors.js';

/** The metadata every Kubernetes object carries (the fields discovery reads). */
export interface KubeMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** A Kubernetes object as the API returns it. */
export type KubeItem = { readonly metadata?: KubeMeta } & Record<string, unknown>;

/** A list answer: the items and the resource version a watch continues from. */
export interface KubeList {
  readonly items: readonly KubeItem[];
  readonly resourceVersion: string;
}

/** One event of a watch stream. */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  readonly object: KubeItem;
}

/** Longest line of a watch stream (one event); the API's own limit on an object is ~1.5 MiB. */
const MAX_EVENT_BYTES = 8 * 1024 * 1024;

/**
 * A minimal client for the two calls discovery needs: list and watch (newline-delimited JSON
 * events), over node:https with the connection's CA, client certificate and bearer token.
 */
export class KubeClient {
  readonly #connection: KubeConnection;
  readonly #agent: https.Agent;
  readonly #timeoutMs: number;

  /** `requestTimeoutMs` bounds a list's silence; default 30 s (a watch may be quiet longer). */
  constructor(connection: KubeConnection, options: { requestTimeoutMs?: number } = {}) {
    this.#connection = connection;
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#agent = new https.Agent({
      keepAlive: true,
      ...(connection.caPem === undefined ? {} : { ca: connection.caPem }),
      ...(connection.certPem === undefined ? {} : { cert: connection.certPem }),
      ...(connection.keyPem === undefined ? {} : { key: connection.keyPem }),
      rejectUnauthorized: connection.insecureSkipTlsVerify !== true,
    });
  }

  /** GETs a collection (`/api/v1/namespaces/x/services`) and returns its items and version. */
  async list(path: string, signal?: AbortSignal): Promise<KubeList> {
    const res = await this.#get(path, signal, this.#timeoutMs);
    const text = await readBody(res, MAX_EVENT_BYTES * 4);
    let body: { items?: unknown; metadata?: { resourceVersion?: unknown } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw kubernetesErrors.malformed(path, 'the list is not JSON');
    }
    const rv = body.metadata?.resourceVersion;
    if (!Array.isArray(body.items) || typeof rv !== 'string') {
      throw kubernetesErrors.malformed(path, 'no items or no metadata.resourceVersion');
    }
    return { items: body.items as KubeItem[], resourceVersion: rv };
  }

  /**
   * Watches a collection from `resourceVersion`, calling `onEvent` for each event, until the
   * server ends the stream (its `timeoutSeconds`) or `signal` aborts. Throws
   * POSTERN_ERR_KUBERNETES_GONE when the version is too old (HTTP 410 or an ERROR event).
   */
  async watch(
    path: string,
    options: { resourceVersion: string; timeoutSeconds?: number; signal?: AbortSignal },
    onEvent: (event: WatchEvent) => void,
  ): Promise<void> {
    const timeoutSeconds = options.timeoutSeconds ?? 300;
    const query = new URLSearchParams({
      watch: '1',
      resourceVersion: options.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(timeoutSeconds),
    });
    // A quiet collection may send nothing (not even a bookmark) until the server ends the
    // watch, so the silence allowed is the watch's own length plus a margin.
    const idleMs = Math.max(this.#timeoutMs, (timeoutSeconds + 60) * 1000);
    const res = await this.#get(`${path}?${query.toString()}`, options.signal, idleMs);
    await readLines(res, `${this.#connection.server}${path}`, (line) => {
      const event = parseEvent(line, path);
      if (event) onEvent(event);
    });
  }

  /** Closes idle connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #get(path: string, signal: AbortSignal | undefined, idleMs: number) {
    const token = await this.#connection.token?.();
    const url = new URL(path, `${this.#connection.server}/`);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = https.get(url, {
        agent: this.#agent,
        headers: {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(signal === undefined ? {} : { signal }),
      });
      req.setTimeout(idleMs, () => req.destroy(new Error(`no data for ${idleMs} ms`)));
      req.once('error', (err) =>
        reject(kubernetesErrors.unreachable(this.#connection.server, err)),
      );
      req.once('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status === 200) return resolve(res);
        void readBody(res, 64 * 1024)
          .catch(() => '')
          .then((text) => {
            reject(status === 410 ? kubernetesErrors.gone(path) : apiError(status, path, text));
          });
      });
    });
  }
}

function apiError(status: number, path: string, text: string) {
  let message = text.slice(0, 300);
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // Not a Status object: keep the raw text.
  }
  return kubernetesErrors.api(status, path.split('?')[0] ?? path, message || 'no message');
}

function parseEvent(line: string, path: string): WatchEvent | undefined {
  let event: { type?: unknown; object?: unknown };
  try {
    event = JSON.parse(line) as typeof event;
  } catch {
    throw kubernetesErrors.malformed(path, 'a watch line is not JSON');
  }
  const object = event.object as KubeItem | undefined;
  if (event.type === 'ERROR') {
    const status = object as { code?: number; message?: string } | undefined;
    if (status?.code === 410) throw kubernetesErrors.gone(path);
    throw kubernetesErrors.api(status?.code ?? 500, path, status?.message ?? 'watch error');
  }
  if (typeof object !== 'object' || object === null) {
    throw kubernetesErrors.malformed(path, 'a watch event has no object');
  }
  if (['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK'].includes(event.type as string)) {
    return { type: event.type as WatchEvent['type'], object };
  }
  return undefined; // an event type from a newer API: ignored
}

function readBody(res: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) res.destroy(new Error(`answer larger than ${maxBytes} bytes`));
      else chunks.push(chunk);
    });
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
    res.once('close', () => {
      if (!res.complete) reject(new Error('the connection closed before the answer ended'));
    });
  });
}

/** Splits a watch stream into lines; a throwing `onLine` stops the stream with that error. */
function readLines(res: IncomingMessage, where: string, onLine: (line: string) => void) {
  return new Promise<void>((resolve, reject) => {
    let pending = '';
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      res.destroy();
      reject(isPosternError(err) ? err : kubernetesErrors.unreachable(where, err));
    };
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while (!failed && (newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        try {
          if (line) onLine(line);
        } catch (err) {
          fail(err);
        }
      }
      if (pending.length > MAX_EVENT_BYTES) fail(new Error('a watch event is too large'));
    });
    res.once('end', () => {
      if (failed) return;
      try {
        if (pending.trim()) onLine(pending.trim());
        resolve();
      } catch (err) {
        fail(err);
      }
    });
    res.once('error', fail);
    res.once('close', () => {
      if (!failed && !res.complete) fail(new Error('the watch connection closed'));
    });
  });
}
