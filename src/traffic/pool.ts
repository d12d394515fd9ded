// Longer than most files on purpose: pick(), done() and the refresh that keeps their inputs
// current are one hot-path unit, easier to check for allocation and ordering side by side.
import { CoreErrors, systemClock, type Clock } from '../core/index.js';
import { createBalancer, type Balancer } from './balancers/index.js';
import { DnsDiscovery, type DiscoveryStatus } from './discovery/index.js';
import { trafficErrors } from './errors.js';
import {
  combineHealth,
  countsAsFailure,
  HealthChecker,
  initialMonitorState,
  passiveHealthDefaults,
  recordCheck,
  type HealthState,
  type MonitorSpec,
  type PassiveHealthOptions,
  type ProbeResult,
} from './health/index.js';
import { nodeToken, setCookieHeader, SourceIpTable, tokenFromCookie } from './persistence/index.js';
import {
  poolOptionsFromConfig,
  type PoolBuildContext,
  type PoolConfigInput,
} from './pool-config.js';
import { PoolEntry, PoolRuntime, type NodeRuntime } from './pool-node.js';
import type { PoolEvent, PoolNode, PoolOptions, PersistenceOptions } from './pool-options.js';
import { buildPoolStatus, type PoolStatus } from './pool-status.js';

/** What a caller may tell pick(): nodes to skip and persistence key material. */
export interface PoolPickOptions {
  /** Addresses of nodes that already failed this request. */
  readonly exclude?: ReadonlySet<string> | undefined;
  /** Client IP, for source-IP persistence. */
  readonly clientIp?: string | undefined;
  /** The request's `Cookie` header (or just the persistence cookie's value). */
  readonly cookie?: string | undefined;
}

/** How a picked session ended, reported once through PoolPick.done(). */
export interface PickOutcome {
  readonly ok: boolean;
  /** Why it failed, when the node is to blame; feeds passive health. */
  readonly kind?: 'connect' | 'reset' | 'timeout' | 'status_5xx' | undefined;
  /** Time to the start of the response (for TCP: to connect); used when ok. */
  readonly responseMs?: number | undefined;
  /** Shown as the node's last error in status. */
  readonly error?: string | undefined;
}

/** A node chosen for one session; `done` must be called exactly once (later calls are ignored). */
export interface PoolPick {
  readonly node: PoolNode;
  /** A whole `Set-Cookie` header value to add to the response (cookie persistence). */
  readonly setCookie?: string;
  done(outcome: PickOutcome): void;
}

/** Options of Pool's constructor: PoolOptions plus the generation being replaced. */
export type PoolConstructorOptions = PoolOptions & {
  /** The pool of the same name in the replaced generation: its runtime state carries over. */
  readonly previous?: Pool | undefined;
};

/** Failed sessions count as this slow in the response-time average, so fast failures never win. */
const FAILURE_PENALTY_MS = 10_000;

type Release = (entry: PoolEntry, outcome: PickOutcome) => void;

class Pick implements PoolPick {
  readonly node: PoolEntry;
  readonly setCookie?: string;
  #release: Release | undefined;

  constructor(node: PoolEntry, release: Release, setCookie: string | undefined) {
    this.node = node;
    this.#release = release;
    if (setCookie !== undefined) this.setCookie = setCookie;
  }

  done(outcome: PickOutcome): void {
    const release = this.#release;
    if (release === undefined) return;
    this.#release = undefined;
    release(this.node, outcome);
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
  /** Nodes from configuration. */
  readonly nodes: readonly PoolNode[];
  /** Name of the persistence cookie, for HTTP virtual servers; undefined without one. */
  readonly persistenceCookie: string | undefined;
  readonly #rt: PoolRuntime;
  readonly #balancer: Balancer<PoolEntry>;
  readonly #panicMode: 'all' | 'none';
  readonly #passive: PassiveHealthOptions | false;
  readonly #persistence: PersistenceOptions | undefined;
  readonly #monitors: readonly MonitorSpec[];
  readonly #clock: Clock;
  readonly #onEvent: ((event: PoolEvent) => void) | undefined;
  readonly #checker: HealthChecker | undefined;
  readonly #discovery: DnsDiscovery | undefined;
  readonly #release: Release = (entry, outcome) => this.#done(entry, outcome);
  #version = -1;
  #entries: PoolEntry[] = [];
  #byAddress = new Map<string, PoolEntry>();
  #byToken = new Map<string, PoolEntry>();
  /** Nodes taking new sessions normally: active, not removed, not down. */
  #eligible: PoolEntry[] = [];
  /** Nodes used in panic: active and not removed, whatever their health. */
  #panicSet: PoolEntry[] = [];
  #checked = '';

  /** Builds a pool; throws POSTERN_ERR_POOL_INVALID when monitors are to run without a dialer. */
  constructor(options: PoolConstructorOptions) {
    this.name = options.name;
    this.via = options.via;
    this.nodes = options.nodes;
    this.#clock = options.clock ?? systemClock;
    this.#onEvent = options.onEvent;
    this.#panicMode = options.panic ?? 'all';
    this.#passive = options.passiveHealth ?? passiveHealthDefaults;
    this.#persistence = options.persistence;
    this.#monitors = options.monitors ?? [];
    this.persistenceCookie =
      this.#persistence?.type === 'cookie' ? this.#persistence.cookieName : undefined;
    const previous = options.previous;
    if (previous !== undefined && previous.name !== options.name) {
      throw CoreErrors.invalidArgument(
        'previous pool',
        `"${previous.name}" is not "${options.name}"`,
      );
    }
    this.#rt = previous === undefined ? new PoolRuntime(options.name) : previous.#rt;
    this.#balancer = this.#chooseBalancer(options, previous);
    this.#setUpPersistence();
    this.#checker = options.monitorsRunRemotely ? undefined : this.#makeChecker(options);
    this.#discovery = options.discovery && this.#makeDiscovery(options);
  }

  /** Builds a pool from its configuration document form; see PoolBuildContext. */
  static fromConfig(
    config: PoolConfigInput,
    context: PoolBuildContext & { previous?: Pool | undefined },
  ): Pool {
    return new Pool({ ...poolOptionsFromConfig(config, context), previous: context.previous });
  }

  /** The nodes that may take new sessions (active, not down), in order. */
  get activeNodes(): readonly PoolNode[] {
    this.#refresh();
    return this.#eligible;
  }

  /**
   * Takes charge of the pool's runtime state and starts monitors and discovery. Call it when
   * this pool's generation goes live; a pool never started still picks, but checks nothing.
   */
  start(): void {
    this.#rt.owner = this;
    // Shared state this generation no longer uses is dropped only now that it is in charge, so
    // a generation built and then abandoned (failed apply) leaves the running one untouched.
    if (this.#discovery === undefined) this.#rt.discovered = undefined;
    if (this.#persistence?.type !== 'source_ip') this.#rt.sourceIp = undefined;
    this.#rt.version++;
    this.#refresh();
    this.#checker?.start();
    this.#discovery?.start();
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
   * the panic mode is none.
   */
  pick(options?: PoolPickOptions): PoolPick {
    this.#refresh();
    const exclude = options?.exclude;
    const pinned = this.#persisted(options);
    if (pinned !== undefined) return this.#take(pinned, undefined);
    let candidates = this.#eligible;
    if (candidates.length === 0) {
      if (this.#panicSet.length === 0) throw trafficErrors.poolEmpty(this.name);
      if (this.#panicMode === 'none') throw trafficErrors.poolDown(this.name);
      candidates = this.#panicSet;
    }
    const node = this.#balancer.pick(candidates, exclude);
    if (node === undefined) throw trafficErrors.poolEmpty(this.name);
    const ip = options?.clientIp;
    if (ip !== undefined && this.#persistence?.type === 'source_ip')
      this.#rt.sourceIp?.set(ip, node.address);
    let setCookie: string | undefined;
    if (this.#persistence?.type === 'cookie' && node.meta.token !== undefined) {
      const sent =
        options?.cookie === undefined
          ? undefined
          : tokenFromCookie(this.#persistence.cookieName, options.cookie);
      if (sent !== node.meta.token) setCookie = setCookieHeader(this.#persistence, node.meta.token);
    }
    return this.#take(node, setCookie);
  }

  /** Sets the discovered node set by hand (e.g. resolved on a connector for `via` pools). */
  setDiscoveredNodes(addresses: readonly string[]): void {
    const before = this.#rt.discovered ?? [];
    const next = [...new Set(addresses)].sort();
    const added = next.filter((a) => !before.includes(a));
    const removed = before.filter((a) => !next.includes(a));
    this.#rt.discovered = next;
    if (added.length === 0 && removed.length === 0) return;
    this.#rt.version++;
    this.#emit({ type: 'discovery', pool: this.name, added, removed });
    this.#refresh();
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
      entries: this.#entries,
      eligible: this.#eligible.length,
      panicCandidates: this.#panicSet.length,
      monitors: this.#monitors.map((m) => m.name),
      clock: this.#clock,
      discovery,
      persistence: this.#persistence?.type,
      persistenceEntries: this.#rt.sourceIp?.size,
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

  #setUpPersistence(): void {
    const p = this.#persistence;
    if (p?.type !== 'source_ip') return;
    const limits = {
      ttlMs: p.ttlMs,
      ...(p.maxEntries === undefined ? {} : { maxEntries: p.maxEntries }),
    };
    if (this.#rt.sourceIp) this.#rt.sourceIp.configure(limits);
    else this.#rt.sourceIp = new SourceIpTable({ ...limits, clock: this.#clock });
  }

  #makeChecker(options: PoolOptions): HealthChecker | undefined {
    if (this.#monitors.length === 0) return undefined;
    if (options.dialer === undefined) {
      throw trafficErrors.poolInvalid(this.name, 'monitors need a dialer to reach the nodes');
    }
    return new HealthChecker({
      pool: this.name,
      via: this.via,
      monitors: this.#monitors,
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
      onNodes: (nodes) => {
        if (this.#rt.owner === this) this.setDiscoveredNodes(nodes);
      },
      onError: (error) => this.#emit({ type: 'discovery_error', pool: this.name, error }),
    });
  }

  #persisted(options: PoolPickOptions | undefined): PoolEntry | undefined {
    if (options === undefined || this.#persistence === undefined) return undefined;
    let entry: PoolEntry | undefined;
    if (this.#persistence.type === 'cookie') {
      if (options.cookie === undefined) return undefined;
      const token = tokenFromCookie(this.#persistence.cookieName, options.cookie);
      entry = token === undefined ? undefined : this.#byToken.get(token);
    } else {
      const address =
        options.clientIp === undefined ? undefined : this.#rt.sourceIp?.get(options.clientIp);
      entry = address === undefined ? undefined : this.#byAddress.get(address);
    }
    // Configured draining nodes keep their persistent sessions (as HAProxy and vTM do);
    // removed, disabled and down nodes do not.
    if (
      entry === undefined ||
      entry.meta.removed ||
      entry.state === 'disabled' ||
      entry.health === 'down'
    ) {
      return undefined;
    }
    return options.exclude?.has(entry.address) ? undefined : entry;
  }

  #take(entry: PoolEntry, setCookie: string | undefined): PoolPick {
    entry.rt.active++;
    entry.rt.picks++;
    return new Pick(entry, this.#release, setCookie);
  }

  #done(entry: PoolEntry, outcome: PickOutcome): void {
    const rt = entry.rt;
    if (rt.active > 0) rt.active--;
    if (outcome.ok) {
      rt.consecutiveFailures = 0;
      if (outcome.responseMs !== undefined) rt.observe(outcome.responseMs);
    } else {
      this.#failed(entry, outcome);
    }
    if (rt.removed && rt.active === 0) this.#rt.version++;
  }

  #failed(entry: PoolEntry, outcome: PickOutcome): void {
    const rt = entry.rt;
    rt.failures++;
    rt.lastError = outcome.error ?? outcome.kind ?? 'failed';
    rt.lastErrorAt = this.#clock.now();
    if (outcome.kind === 'connect' || outcome.kind === 'reset' || outcome.kind === 'timeout') {
      rt.observe(FAILURE_PENALTY_MS);
    }
    const passive = this.#passive;
    if (passive === false || !countsAsFailure(outcome.kind, passive)) return;
    rt.consecutiveFailures++;
    if (rt.consecutiveFailures < passive.failures || rt.ejectedUntil !== 0) return;
    rt.ejectedUntil = this.#clock.monotonic() + passive.ejectMs;
    rt.ejections++;
    this.#rt.nextEjectExpiry = Math.min(this.#rt.nextEjectExpiry, rt.ejectedUntil);
    this.#rt.version++;
    const detail = `${rt.consecutiveFailures} failed sessions in a row (last: ${rt.lastError})`;
    this.#emit({
      type: 'node_health',
      pool: this.name,
      address: entry.address,
      health: 'down',
      source: 'passive',
      detail,
    });
  }

  /** Brings the cached node lists up to date with the shared runtime; O(1) when nothing changed. */
  #refresh(): void {
    const rt = this.#rt;
    if (rt.nextEjectExpiry !== Infinity && rt.nextEjectExpiry <= this.#clock.monotonic())
      this.#expireEjections();
    if (this.#version === rt.version) return;
    this.#version = rt.version;
    this.#rebuild();
    const panic = this.#eligible.length === 0 && this.#panicSet.length > 0;
    if (rt.owner === this && panic !== rt.panic) {
      rt.panic = panic;
      this.#emit({ type: 'panic', pool: this.name, panic, mode: this.#panicMode });
    }
    this.#syncChecker();
  }

  #expireEjections(): void {
    const now = this.#clock.monotonic();
    let next = Infinity;
    for (const [address, node] of this.#rt.nodes) {
      if (node.ejectedUntil === 0) continue;
      if (node.ejectedUntil > now) {
        next = Math.min(next, node.ejectedUntil);
        continue;
      }
      node.ejectedUntil = 0;
      node.consecutiveFailures = 0;
      this.#emit({
        type: 'node_health',
        pool: this.name,
        address,
        health: 'unknown',
        source: 'passive',
        detail: 'ejection over',
      });
    }
    this.#rt.nextEjectExpiry = next;
    this.#rt.version++;
  }

  #rebuild(): void {
    const rt = this.#rt;
    const cookie = this.#persistence?.type === 'cookie';
    const entries: PoolEntry[] = [];
    const seen = new Set<string>();
    const add = (
      node: PoolNode,
      source: 'config' | 'discovery',
      removed: boolean,
      runtime: NodeRuntime,
    ): void => {
      seen.add(node.address);
      if (rt.owner === this) runtime.removed = removed;
      const token = cookie ? nodeToken(this.name, node.address) : undefined;
      const entry = new PoolEntry(node.address, node.weight, node.state, runtime, {
        source,
        removed,
        token,
      });
      entry.health = this.#healthOf(runtime);
      entries.push(entry);
    };
    for (const node of this.nodes)
      if (!seen.has(node.address)) add(node, 'config', false, rt.node(node.address));
    for (const address of rt.discovered ?? []) {
      if (!seen.has(address))
        add({ address, weight: 1, state: 'active' }, 'discovery', false, rt.node(address));
    }
    for (const [address, node] of rt.nodes) {
      if (seen.has(address)) continue;
      // Gone from configuration and discovery: drain what it still carries, then forget it.
      if (node.active > 0) add({ address, weight: 1, state: 'draining' }, 'discovery', true, node);
      else if (rt.owner === this) rt.nodes.delete(address);
    }
    this.#entries = entries;
    this.#byAddress = new Map(entries.map((e) => [e.address, e]));
    this.#byToken = new Map(cookie ? entries.map((e) => [e.meta.token!, e]) : []);
    this.#panicSet = entries.filter((e) => e.state === 'active' && !e.meta.removed);
    this.#eligible = this.#panicSet.filter((e) => e.health !== 'down');
  }

  #healthOf(node: NodeRuntime): HealthState {
    if (node.ejectedUntil !== 0) return 'down';
    if (this.#monitors.length === 0) return 'unknown';
    return combineHealth(this.#monitors.map((m) => node.monitors.get(m.name)?.health ?? 'unknown'));
  }

  #syncChecker(): void {
    if (this.#checker === undefined) return;
    const addresses = this.#entries
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
