import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Backoff } from '../../core/index.js';
import type { KubernetesService, Message } from '../../protocol/index.js';
import { KubeClient } from './kube-client.js';
import type { KubeConnection } from './kube-config.js';
import { ResourceWatcher } from './resource-watcher.js';
import { servicesSnapshot, snapshotMessages } from './service-snapshot.js';

/** What the connector discovers in Kubernetes, and how it reaches the API. */
export interface KubernetesDiscoveryOptions {
  /** The API server and credentials (in-cluster or from a kubeconfig). */
  readonly connection: KubeConnection;
  /** Namespaces to watch (each needs its own Role); default the connection's namespace. */
  readonly namespaces?: readonly string[] | undefined;
  readonly logger: Logger;
  /** Changes arriving within this many ms are sent as one snapshot; default 200. */
  readonly debounceMs?: number | undefined;
  /** Makes each watcher's backoff; default 1 s growing to 30 s. */
  readonly backoff?: (() => Backoff) | undefined;
  /** Server-side bound on one watch request; default 300 s. */
  readonly watchTimeoutSeconds?: number | undefined;
  /** Bounds the silence of a list request; default 30 s. */
  readonly requestTimeoutMs?: number | undefined;
}

interface DiscoveryEvents {
  /** A new snapshot, as the messages that carry it to the edge. */
  snapshot: [Message<'kubernetes_services'>[]];
}

/**
 * Watches Services and EndpointSlices in the allowed namespaces and turns the Services that
 * carry `postern.dev/expose` into snapshots for the edge, sent again only when they change.
 */
export class KubernetesDiscovery extends EventEmitter<DiscoveryEvents> {
  readonly #options: KubernetesDiscoveryOptions;
  readonly #client: KubeClient;
  readonly #services: ResourceWatcher[] = [];
  readonly #slices: ResourceWatcher[] = [];
  readonly #errors = new Map<string, string>();
  readonly #stop = new AbortController();
  #runs: Promise<void>[] = [];
  #timer: NodeJS.Timeout | undefined;
  #last: { services: KubernetesService[]; error: string | undefined; key: string } = {
    services: [],
    error: undefined,
    key: '[]',
  };

  constructor(options: KubernetesDiscoveryOptions) {
    super();
    this.#options = options;
    this.#client = new KubeClient(
      options.connection,
      options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs },
    );
  }

  /** The namespaces being watched. */
  get namespaces(): readonly string[] {
    const list = this.#options.namespaces ?? [];
    return list.length > 0 ? list : [this.#options.connection.namespace];
  }

  /** The exposed Services of the last snapshot. */
  get services(): readonly KubernetesService[] {
    return this.#last.services;
  }

  /** The current snapshot as messages (sent on every new tunnel). */
  messages(): Message<'kubernetes_services'>[] {
    return snapshotMessages(this.#last.services, this.#last.error);
  }

  /** Starts listing and watching; returns at once (progress arrives as `snapshot` events). */
  start(): void {
    const o = this.#options;
    for (const ns of this.namespaces) {
      const encoded = encodeURIComponent(ns);
      this.#services.push(this.#watcher(`/api/v1/namespaces/${encoded}/services`));
      this.#slices.push(
        this.#watcher(`/apis/discovery.k8s.io/v1/namespaces/${encoded}/endpointslices`),
      );
    }
    this.#runs = [...this.#services, ...this.#slices].map((w) => w.run(this.#stop.signal));
    o.logger.info({ namespaces: this.namespaces }, 'kubernetes discovery started');
  }

  /** Stops every watch. */
  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.all(this.#runs);
    this.#client.close();
  }

  #watcher(path: string): ResourceWatcher {
    const o = this.#options;
    return new ResourceWatcher(this.#client, path, {
      onChange: () => {
        this.#errors.delete(path);
        this.#schedule();
      },
      onError: (err) => {
        const code = (err as { code?: string }).code;
        o.logger.warn({ path, code, err: err.message }, 'kubernetes discovery failed; retrying');
        this.#errors.set(path, err.message);
        this.#schedule();
      },
      backoff: o.backoff?.(),
      watchTimeoutSeconds: o.watchTimeoutSeconds,
      logger: o.logger,
    });
  }

  #schedule(): void {
    if (this.#timer || this.#stop.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#publish();
    }, this.#options.debounceMs ?? 200);
  }

  #publish(): void {
    // The first snapshot waits for every collection (listed, or failed): a Service seen before
    // its EndpointSlices were listed would be reported without addresses.
    const pending = [...this.#services, ...this.#slices].some(
      (w) => !w.synced && !this.#errors.has(w.path),
    );
    if (pending) return;
    const services = servicesSnapshot(
      this.#services.flatMap((w) => [...w.items.values()]),
      this.#slices.flatMap((w) => [...w.items.values()]),
    );
    const error = this.#errors.size > 0 ? [...this.#errors.values()].join('; ') : undefined;
    const key = JSON.stringify([services, error]);
    if (key === this.#last.key) return;
    this.#last = { services, error, key };
    this.emit('snapshot', this.messages());
  }
}
