import type { Logger } from 'pino';
import { Backoff, isPosternError } from '../../core/index.js';
import type { KubeClient, KubeItem, WatchEvent } from './kube-client.js';

/** How one collection is kept in sync. */
export interface ResourceWatcherOptions {
  /** Called after every change of the local copy (list or watch event). */
  readonly onChange: () => void;
  /** Called when listing or watching fails; the watcher retries with backoff. */
  readonly onError?: ((err: Error) => void) | undefined;
  /** Delays between failed attempts; default 1 s growing to 30 s. */
  readonly backoff?: Backoff | undefined;
  /** Server-side bound on one watch request; default 300 s. */
  readonly watchTimeoutSeconds?: number | undefined;
  readonly logger?: Logger | undefined;
}

/** A watch that ends this fast without an event counts as a failure (no tight loop). */
const SHORT_WATCH_MS = 1000;

/**
 * Keeps a local copy of one collection (a reflector): list, then watch from the list's
 * resourceVersion, following each event's version; a watch the server ends is resumed from
 * the last version; 410 Gone lists again; other errors back off, then list again.
 */
export class ResourceWatcher {
  /** The collection's objects by `namespace/name`. */
  readonly items = new Map<string, KubeItem>();
  readonly #client: KubeClient;
  readonly #path: string;
  readonly #options: ResourceWatcherOptions;
  readonly #backoff: Backoff;
  #synced = false;
  #resourceVersion = '';
  #lists = 0;

  constructor(client: KubeClient, path: string, options: ResourceWatcherOptions) {
    this.#client = client;
    this.#path = path;
    this.#options = options;
    this.#backoff = options.backoff ?? new Backoff({ initialMs: 1000, maxMs: 30_000 });
  }

  /** The collection's path. */
  get path(): string {
    return this.#path;
  }

  /** True once a list has succeeded. */
  get synced(): boolean {
    return this.#synced;
  }

  /** How many times the collection was listed (the first time, and after 410 Gone or errors). */
  get lists(): number {
    return this.#lists;
  }

  /** Runs until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    let gone = 0;
    while (!signal.aborted) {
      try {
        await this.#list(signal);
        gone = 0;
        await this.#watchForever(signal);
      } catch (err) {
        if (signal.aborted) break;
        const error = err as Error;
        // One 410 is routine (the version aged out): list again at once. Repeats back off.
        if (isPosternError(error, 'POSTERN_ERR_KUBERNETES_GONE') && gone++ === 0) {
          this.#options.logger?.debug({ path: this.#path }, 'watch expired (410); listing again');
          continue;
        }
        this.#options.onError?.(error);
        await sleep(this.#backoff.next(), signal);
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const list = await this.#client.list(this.#path, signal);
    this.#lists += 1;
    this.items.clear();
    for (const item of list.items) this.items.set(keyOf(item), item);
    this.#resourceVersion = list.resourceVersion;
    this.#synced = true;
    this.#backoff.reset();
    this.#options.onChange();
  }

  async #watchForever(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = Date.now();
      let events = 0;
      await this.#client.watch(
        this.#path,
        {
          resourceVersion: this.#resourceVersion,
          timeoutSeconds: this.#options.watchTimeoutSeconds ?? 300,
          signal,
        },
        (event) => {
          events += 1;
          this.#apply(event);
        },
      );
      if (events === 0 && Date.now() - started < SHORT_WATCH_MS) {
        await sleep(this.#backoff.next(), signal);
      }
    }
  }

  #apply(event: WatchEvent): void {
    const version = event.object.metadata?.resourceVersion;
    if (version) this.#resourceVersion = version;
    if (event.type === 'BOOKMARK') return;
    const key = keyOf(event.object);
    if (event.type === 'DELETED') this.items.delete(key);
    else this.items.set(key, event.object);
    this.#options.onChange();
  }
}

function keyOf(item: KubeItem): string {
  return `${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
