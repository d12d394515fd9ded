// Longer than most files: Pool is the one surface that ties the parts together (pick, the wait
// for a slot, done, start, close, status); the node view, persistence, node runtime, the queue
// and status live beside it.
import { CoreErrors, systemClock, type Clock } from '../core/index.js';
import { createBalancer, type Balancer } from './balancers/index.js';
import {
  DnsDiscovery,
  NO_WEIGHTS,
  sameWeights,
  type DiscoveryStatus,
  type NodeWeights,
} from './discovery/index.js';
import { trafficErrors } from './errors.js';
import {
  HealthChecker,
  initialMonitorState,
  monitorRunsOnEdge,
  passiveHealthDefaults,
  recordCheck,
  type MonitorSpec,
  type PassiveHealthOptions,
  type ProbeResult,
} from './health/index.js';
import {
  poolOptionsFromConfig,
  type PoolBuildContext,
  type PoolConfigInput,
} from './pool-config.js';
import { PoolRuntime, type PoolEntry, type SlowStart } from './pool-node.js';
import { PoolPersistence } from './pool-persistence.js';
import type {
  PickOutcome,
  PoolEvent,
  PoolNode,
  PoolOptions,
  PoolPick,
  PoolPickOptions,
} from './pool-options.js';
import type { UpstreamTls } from './upstream-tls.js';
import { buildPoolStatus, type PoolStatus } from './pool-status.js';
import { PoolView } from './pool-view.js';

/** Default most waiters in a pool's queue (vTM's max_queue_size is unbounded; this is not). */
export const DEFAULT_QUEUE_MAX = 1024;

/** How a pick waits in the queue: `signal` aborts the wait (the client went away). */
export interface SlotWait {
  readonly signal?: AbortSignal | undefined;
}

/** Options of Pool's constructor: PoolOptions plus the generation being replaced. */
export type PoolConstructorOptions = PoolOptions & {
  /** The pool of the same name in the replaced generation: its runtime state carries over. */
  readonly previous?: Pool | undefined;
};

type Release = (entry: PoolEntry, outcome: PickOutcome, request: boolean) => void;

class Pick implements PoolPick {
  readonly node: PoolEntry;
  readonly setCookie?: string;
  readonly #request: boolean;
  #release: Release | undefined;

  constructor(node: PoolEntry, release: Release, setCookie: string | undefined, request: boolean) {
    this.node = node;
    this.#release = release;
    this.#request = request;
    if (setCookie !== undefined) this.setCookie = setCookie;
  }

  done(outcome: PickOutcome): void {
    const release = this.#release;
    if (release === undefined) return;
    this.#release = undefined;
    release(this.node, outcome, this.#request);
  }
}

/**
 * A named set of upstream nodes (configured and discovered), their health, and the algorithm
 * that spreads sessions over them. One Pool object belongs to one configuration generation;
 * runtime state lives in a PoolRuntime shared with the pool of the same name in the next one.
 */
export class Pool {
  readonly name: string;
  readonly via: string | undefined;
  /** TLS to the nodes, when configured. */
  readonly upstreamTls: UpstreamTls | undefined;
  /** Nodes from configuration. */
  readonly nodes: readonly PoolNode[];
  /** Name of the persistence cookie, for HTTP virtual servers; undefined without one. */
  readonly persistenceCookie: string | undefined;
  /** How long a pick may wait for a node below its limit; 0 = no queue (refused at once). */
  readonly queueTimeoutMs: number;
  /** tcp/tls: a queued client's FIN leaves the queue (HAProxy's abortonclose); default false. */
  readonly abortOnClose: boolean;
  readonly #queueMax: number;
  readonly #maxConnections: number;
  readonly #priorityNodes: number | undefined;
  readonly #rt: PoolRuntime;
  readonly #balancer: Balancer<PoolEntry>;
  readonly #panicMode: 'all' | 'none';
  readonly #passive: PassiveHealthOptions | false;
  readonly #persistence: PoolPersistence;
  readonly #monitors: readonly MonitorSpec[];
  readonly #monitorNames: readonly string[];
  readonly #clock: Clock;
  readonly #onEvent: ((event: PoolEvent) => void) | undefined;
  readonly #slowStart: SlowStart | undefined;
  readonly #checker: HealthChecker | undefined;
  readonly #discovery: DnsDiscovery | undefined;
  readonly #keepsDiscovered: boolean;
  /** What the discovered set is of (type, name, port); a change drops the last good set. */
  readonly #discoveryKey: string | undefined;
  readonly #release: Release = (entry, outcome, request) => this.#done(entry, outcome, request);
  #version = -1;
  #view = PoolView.empty();
  #checked = '';

  /** Builds a pool; throws POSTERN_ERR_POOL_INVALID when monitors are to run without a dialer. */
  constructor(options: PoolConstructorOptions) {
    this.name = options.name;
    this.via = options.via;
    this.upstreamTls = options.tls;
    this.nodes = options.nodes;
    this.#clock = options.clock ?? systemClock;
    this.#onEvent = options.onEvent;
    const slowStartMs = options.slowStartMs ?? 0;
    this.#slowStart = slowStartMs > 0 ? { clock: this.#clock, ms: slowStartMs } : undefined;
    this.#maxConnections = options.nodeMaxConnections ?? 0;
    this.#priorityNodes = options.priorityNodes;
    this.queueTimeoutMs = options.queueTimeoutMs ?? 0;
    this.abortOnClose = options.abortOnClose ?? false;
    this.#queueMax = options.queueMax ?? DEFAULT_QUEUE_MAX;
    this.#panicMode = options.panic ?? 'all';
    this.#passive = options.passiveHealth ?? passiveHealthDefaults;
    this.#monitors = options.monitors ?? [];
    this.#monitorNames = this.#monitors.map((m) => m.name);
    this.persistenceCookie =
      options.persistence?.type === 'cookie' ? options.persistence.cookieName : undefined;
    const previous = options.previous;
    if (previous !== undefined && previous.name !== options.name) {
      throw CoreErrors.invalidArgument(
        'previous pool',
        `"${previous.name}" is not "${options.name}"`,
      );
    }
    this.#rt = previous === undefined ? new PoolRuntime(options.name) : previous.#rt;
    this.#balancer = this.#chooseBalancer(options, previous);
    this.#persistence = new PoolPersistence(options.persistence, this.#rt, this.#clock);
    this.#checker = this.#makeChecker(options);
    this.#discovery =
      options.discovery && !options.discoveryRunsRemotely
        ? this.#makeDiscovery(options)
        : undefined;
    this.#keepsDiscovered = options.discovery !== undefined || !!options.discoveryRunsRemotely;
    const d = options.discovery;
    this.#discoveryKey = d === undefined ? undefined : `${d.type} ${d.name} ${d.port ?? ''}`;
  }

  /** Builds a pool from its configuration document form; see PoolBuildContext. */
  static fromConfig(
    config: PoolConfigInput,
    context: PoolBuildContext & { previous?: Pool | undefined },
  ): Pool {
    return new Pool({ ...poolOptionsFromConfig(config, context), previous: context.previous });
  }

  /** The nodes that may take new sessions (active, not down, in a priority group in use), in order. */
  get activeNodes(): readonly PoolNode[] {
    this.#refresh();
    return this.#view.eligible;
  }

  /**
   * Takes charge of the pool's runtime state and starts monitors and discovery. Call it when
   * this pool's generation goes live; a pool never started still picks, but checks nothing.
   */
  start(): void {
    this.#rt.owner = this;
    // Shared state this generation no longer uses is dropped only now that it is in charge, so
    // a generation built and then abandoned (failed apply) leaves the running one untouched.
    if (!this.#keepsDiscovered) this.#rt.discovered = undefined;
    // A set found for another name is no last good set for this one: start empty (as vTM does
    // when a pool's discovery arguments change) until the new name's first answer.
    else if (this.#rt.discoveredFor !== this.#discoveryKey) {
      this.setDiscoveredNodes([]);
      this.#rt.discoveryAnswered = false;
      this.#rt.discoverySeeded = false;
    }
    this.#rt.discoveredFor = this.#discoveryKey;
    this.#persistence.takeCharge();
    this.#rt.version++;
    this.#refresh();
    this.#checker?.start();
    this.#discovery?.start();
    // New limits may leave room for picks that were waiting.
    this.#drainQueue();
  }

  /** Stops monitors and discovery. Runtime state stays for the next generation. */
  close(): void {
    this.#checker?.stop();
    this.#discovery?.stop();
    if (this.#rt.owner === this) this.#rt.owner = undefined;
  }

  /**
   * Picks a node for a new session: the persisted node when it is still usable, otherwise the
   * balancer's choice among healthy nodes, or among all active nodes in panic. Throws
   * POSTERN_ERR_POOL_EMPTY when no node is left, POSTERN_ERR_POOL_DOWN when all are down and
   * the panic mode is none, POSTERN_ERR_POOL_FULL when every usable node is at its connection
   * limit or others already wait (then, with `queueTimeoutMs` > 0, {@link waitForSlot} may wait).
   */
  pick(options?: PoolPickOptions): PoolPick {
    const pick = this.#tryPick(options, false);
    if (pick === undefined) throw this.#full();
    return pick;
  }

  /**
   * Waits in the pool's FIFO queue for a node below its limit, for a pick that found every node
   * at its limit; resolves with the pick. Rejects at once with POSTERN_ERR_POOL_FULL when the
   * pool has no queue or it is full; with POSTERN_ERR_POOL_QUEUE_TIMEOUT after queueTimeoutMs;
   * with POOL_EMPTY/POOL_DOWN when every node goes; with the signal's reason when it aborts.
   */
  waitForSlot(options?: PoolPickOptions, wait?: SlotWait): Promise<PoolPick> {
    const queue = this.#rt.queue;
    if (this.queueTimeoutMs <= 0 || queue.length >= this.#queueMax) {
      return Promise.reject(this.#full());
    }
    const ms = this.queueTimeoutMs;
    const waiting = queue.wait(() => this.#inCharge().#tryPick(options, true), {
      timeoutMs: ms,
      signal: wait?.signal,
      clock: this.#clock,
      timeoutError: () => trafficErrors.poolQueueTimeout(this.name, ms),
    });
    // A slot may be free for this waiter though not for those ahead of it (their exclusions).
    this.#drainQueue();
    return waiting;
  }

  /**
   * The generation whose nodes and limits waiters pick from: the one in charge, so a reload's
   * new limits apply to picks already waiting; this one when none is (closed, not yet started).
   */
  #inCharge(): Pool {
    const owner = this.#rt.owner;
    return owner instanceof Pool ? owner : this;
  }

  #full(): Error {
    return trafficErrors.poolFull(this.name, this.#queueMax, this.queueTimeoutMs);
  }

  /** The nodes a pick chooses from: healthy ones, or in panic all active ones; throws when none. */
  #candidates(): readonly PoolEntry[] {
    const candidates = this.#view.eligible;
    if (candidates.length > 0) return candidates;
    if (this.#view.panicSet.length === 0) throw trafficErrors.poolEmpty(this.name);
    if (this.#panicMode === 'none') throw trafficErrors.poolDown(this.name);
    return this.#view.panicSet;
  }

  /** A pick, or undefined when every node it may use is at its limit (or, unless `queued`, others wait). */
  #tryPick(options: PoolPickOptions | undefined, queued: boolean): PoolPick | undefined {
    this.#refresh();
    if (this.#view.limited) return this.#tryPickLimited(options, queued);
    const pinned = this.#persistence.pinned(options, this.#view);
    if (pinned !== undefined) return this.#take(pinned, undefined, options);
    const node = this.#balancer.pick(this.#candidates(), options?.exclude);
    if (node === undefined) throw trafficErrors.poolEmpty(this.name);
    const setCookie = this.#persistence.pin(node, options);
    return this.#take(node, setCookie, options);
  }

  /** pick() when nodes have connection limits: nodes at theirs are skipped, like draining ones. */
  #tryPickLimited(options: PoolPickOptions | undefined, queued: boolean): PoolPick | undefined {
    const candidates = this.#candidates();
    const exclude = options?.exclude;
    // Waiters come first (FIFO): a new pick does not take a slot one of them is about to get.
    const free = !queued && this.#rt.queue.length > 0 ? [] : candidates.filter((e) => !e.atLimit);
    // A client pinned to a node at its limit falls back to another, as for a down node.
    const pinned = free.length === 0 ? undefined : this.#persistence.pinned(options, this.#view);
    if (pinned !== undefined && !pinned.atLimit) return this.#take(pinned, undefined, options);
    const node = free.length === 0 ? undefined : this.#balancer.pick(free, exclude);
    if (node === undefined) {
      // Only nodes this pick excludes are left: waiting would not help.
      if (exclude !== undefined && candidates.every((e) => exclude.has(e.address)))
        throw trafficErrors.poolEmpty(this.name);
      return undefined;
    }
    const setCookie = this.#persistence.pin(node, options);
    return this.#take(node, setCookie, options);
  }

  /** Hands slots freed (or made by a change) to the oldest waiters that can use them. */
  #drainQueue(): void {
    const queue = this.#rt.queue;
    if (queue.length === 0) return;
    queue.drain(this.#clock, () => this.#hasRoom());
  }

  /** Some node may take a waiter, or none is left at all (then waiters learn so). */
  #hasRoom(): boolean {
    this.#refresh();
    let candidates: readonly PoolEntry[];
    try {
      candidates = this.#candidates();
    } catch {
      return true;
    }
    return !this.#view.limited || candidates.some((e) => !e.atLimit);
  }

  /**
   * Sets the discovered node set by hand (e.g. resolved on a connector for `via` pools), with
   * the nodes' weights (an address without one weighs 1). A change of weights alone applies too.
   */
  setDiscoveredNodes(addresses: readonly string[], weights: NodeWeights = NO_WEIGHTS): void {
    const before = this.#rt.discovered ?? [];
    const weightsBefore = this.#rt.discoveredWeights;
    const unique = new Set(addresses);
    const known = new Set(before);
    const next = [...unique].sort();
    const added = next.filter((a) => !known.has(a));
    const removed = before.filter((a) => !unique.has(a));
    this.#rt.discovered = next;
    this.#rt.discoveredWeights = weights;
    this.#rt.discoveryAnswered = true;
    const reweighted = !sameWeights(next, weightsBefore, weights);
    if (added.length === 0 && removed.length === 0 && !reweighted) return;
    this.#rt.version++;
    // New weights alone are no news for logs or the connectors' destinations: no event.
    if (added.length > 0 || removed.length > 0) {
      this.#emit({ type: 'discovery', pool: this.name, added, removed });
    }
    this.#refresh();
    this.#drainQueue();
  }

  /** Records one active check result (from this pool's monitors, or reported by a connector). */
  recordCheck(address: string, monitor: string, result: ProbeResult): void {
    const spec = this.#monitors.find((m) => m.name === monitor);
    if (spec === undefined) return;
    const rt = this.#rt.node(address);
    let state = rt.monitors.get(monitor);
    if (state === undefined) {
      state = initialMonitorState();
      rt.monitors.set(monitor, state);
    }
    const changed = recordCheck(
      state,
      { ok: result.ok, detail: result.detail, at: this.#clock.now() },
      spec,
    );
    if (!changed) return;
    this.#rt.version++;
    this.#emit({
      type: 'node_health',
      pool: this.name,
      address,
      health: state.health,
      source: `monitor:${monitor}`,
      detail: result.detail,
    });
    // Seen at once, so a node down and back up between two picks still starts slow start.
    this.#refresh();
    this.#drainQueue();
  }

  /** A plain snapshot for the admin API. */
  status(): PoolStatus {
    this.#refresh();
    const discovery: DiscoveryStatus | undefined = this.#discovery?.status();
    return buildPoolStatus({
      name: this.name,
      via: this.via,
      algorithm: this.#balancer.algorithm,
      panicMode: this.#panicMode,
      entries: this.#view.entries,
      eligible: this.#view.eligible,
      priorityNodes: this.#view.priorityNodes,
      panicCandidates: this.#view.panicSet.length,
      monitors: this.#monitorNames,
      clock: this.#clock,
      discovery,
      persistence: this.#persistence.options?.type,
      persistenceEntries: this.#rt.sourceIp?.size,
      queued: this.#rt.queue.length,
      queueTimeouts: this.#rt.queue.timeouts,
    });
  }

  #chooseBalancer(options: PoolOptions, previous: Pool | undefined): Balancer<PoolEntry> {
    if (options.balancer) return options.balancer as Balancer<PoolEntry>;
    const algorithm = options.algorithm ?? 'round_robin';
    // Keeping the previous balancer keeps round-robin positions and weighted scores.
    if (previous !== undefined && previous.#balancer.algorithm === algorithm)
      return previous.#balancer;
    return createBalancer<PoolEntry>(algorithm, options.random ? { random: options.random } : {});
  }

  #makeChecker(options: PoolOptions): HealthChecker | undefined {
    // Via pools: connectors run the checks, but those needing the client key (monitorRunsOnEdge).
    const monitors = this.#monitors.filter(
      (m) => !options.monitorsRunRemotely || monitorRunsOnEdge(m, options.tls),
    );
    if (monitors.length === 0) return undefined;
    if (options.dialer === undefined) {
      throw trafficErrors.poolInvalid(this.name, 'monitors need a dialer to reach the nodes');
    }
    return new HealthChecker({
      pool: this.name,
      via: this.via,
      monitors,
      tls: options.tls,
      dialer: options.dialer,
      clock: this.#clock,
      onResult: (address, monitor, result) => {
        if (this.#rt.owner === this) this.recordCheck(address, monitor.name, result);
      },
    });
  }

  #makeDiscovery(options: PoolOptions): DnsDiscovery {
    return new DnsDiscovery(options.discovery!, {
      clock: this.#clock,
      ...(options.dnsQueryTimeoutMs === undefined
        ? {}
        : { queryTimeoutMs: options.dnsQueryTimeoutMs }),
      onNodes: (nodes, weights) => {
        if (this.#rt.owner === this) this.setDiscoveredNodes(nodes, weights);
      },
      onError: (error) => this.#emit({ type: 'discovery_error', pool: this.name, error }),
      onSkipped: (skipped) => this.#emit({ type: 'discovery_skipped', pool: this.name, skipped }),
    });
  }

  #take(
    entry: PoolEntry,
    setCookie: string | undefined,
    options: PoolPickOptions | undefined,
  ): PoolPick {
    const request = options?.request === true;
    entry.rt.active++;
    entry.rt.picks++;
    if (!request) entry.rt.figures.sessions++;
    return new Pick(entry, this.#release, setCookie, request);
  }

  #done(entry: PoolEntry, outcome: PickOutcome, request: boolean): void {
    const rt = entry.rt;
    rt.figures.record(outcome, request);
    if (rt.release(outcome, this.#passive, this.#clock)) {
      this.#rt.nextEjectExpiry = Math.min(this.#rt.nextEjectExpiry, rt.ejectedUntil);
      this.#rt.version++;
      this.#emit({
        type: 'node_health',
        pool: this.name,
        address: entry.address,
        health: 'down',
        source: 'passive',
        detail: `${rt.consecutiveFailures} failed sessions in a row (last: ${rt.lastError})`,
      });
    }
    if (rt.removed && rt.active === 0) this.#rt.version++;
    this.#drainQueue();
  }

  /** Brings the cached view up to date with the shared runtime; O(1) when nothing changed. */
  #refresh(): void {
    const rt = this.#rt;
    if (rt.nextEjectExpiry !== Infinity && rt.nextEjectExpiry <= this.#clock.monotonic()) {
      for (const address of rt.expireEjections(this.#clock.monotonic())) {
        this.#emit({
          type: 'node_health',
          pool: this.name,
          address,
          health: 'unknown',
          source: 'passive',
          detail: 'ejection over',
        });
      }
    }
    if (this.#version === rt.version) return;
    this.#version = rt.version;
    this.#view = PoolView.build({
      pool: this.name,
      nodes: this.nodes,
      rt,
      inCharge: rt.owner === this,
      monitors: this.#monitorNames,
      cookie: this.#persistence.cookie,
      cookieKey: this.#persistence.cookieKey,
      slowStart: this.#slowStart,
      maxConnections: this.#maxConnections,
      priorityNodes: this.#priorityNodes,
    });
    const panic = this.#view.eligible.length === 0 && this.#view.panicSet.length > 0;
    if (rt.owner === this && panic !== rt.panic) {
      rt.panic = panic;
      this.#emit({ type: 'panic', pool: this.name, panic, mode: this.#panicMode });
    }
    this.#syncChecker();
  }

  #syncChecker(): void {
    if (this.#checker === undefined) return;
    const addresses = this.#view.entries
      .filter((e) => e.state !== 'disabled' && !e.meta.removed)
      .map((e) => e.address);
    const key = addresses.join('\n');
    if (key === this.#checked) return;
    this.#checked = key;
    this.#checker.setNodes(addresses);
  }

  #emit(event: PoolEvent): void {
    this.#onEvent?.(event);
  }
}
