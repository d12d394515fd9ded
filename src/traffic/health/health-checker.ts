import { systemClock, type Clock, type TimerHandle } from '../../core/index.js';
import type { Dialer } from '../dialer.js';
import type { UpstreamTls } from '../upstream-tls.js';
import type { MonitorSpec } from './monitor-spec.js';
import { runProbe, type ProbeResult } from './probe.js';

/** How to build a pool's health checker. */
export interface HealthCheckerOptions {
  /** Pool name, for session ids in logs. */
  readonly pool: string;
  /** Connector group the pool's nodes are reached through; absent = dial from here. */
  readonly via: string | undefined;
  readonly monitors: readonly MonitorSpec[];
  readonly dialer: Dialer;
  /** The pool's `tls`, which https monitors use (see probeTls); default none. */
  readonly tls?: UpstreamTls | undefined;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Receives every completed check, in completion order. */
  readonly onResult: (address: string, monitor: MonitorSpec, result: ProbeResult) => void;
}

/** One monitor probing one node, again and again. */
interface CheckLoop {
  readonly address: string;
  readonly monitor: MonitorSpec;
  timer: TimerHandle | undefined;
  controller: AbortController | undefined;
  stopped: boolean;
}

/**
 * Runs a pool's active monitors against its nodes: one loop per node and monitor, each check
 * bounded by the monitor's timeout and the next one starting `delay_ms` after it finished.
 * Nodes come and go through `setNodes` (discovery); results go to `onResult`.
 */
export class HealthChecker {
  readonly #options: HealthCheckerOptions;
  readonly #clock: Clock;
  readonly #loops = new Map<string, CheckLoop>();
  #addresses: readonly string[] = [];
  #running = false;
  #seq = 0;

  constructor(options: HealthCheckerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** True between start() and stop(). */
  get running(): boolean {
    return this.#running;
  }

  /** Number of node × monitor loops in progress. */
  get loops(): number {
    return this.#loops.size;
  }

  /** Checks exactly these nodes from now on: new ones at once, removed ones no more. */
  setNodes(addresses: readonly string[]): void {
    this.#addresses = addresses;
    if (this.#running) this.#sync();
  }

  /** Starts checking; the first check of every node runs at once. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#sync();
  }

  /** Stops every loop and abandons checks in flight (their results are not reported). */
  stop(): void {
    this.#running = false;
    for (const loop of this.#loops.values()) this.#stopLoop(loop);
    this.#loops.clear();
  }

  #sync(): void {
    const wanted = new Set<string>();
    for (const address of this.#addresses) {
      for (const monitor of this.#options.monitors) {
        const key = `${monitor.name}\n${address}`;
        wanted.add(key);
        if (this.#loops.has(key)) continue;
        const loop: CheckLoop = {
          address,
          monitor,
          timer: undefined,
          controller: undefined,
          stopped: false,
        };
        this.#loops.set(key, loop);
        void this.#check(loop);
      }
    }
    for (const [key, loop] of this.#loops) {
      if (wanted.has(key)) continue;
      this.#stopLoop(loop);
      this.#loops.delete(key);
    }
  }

  #stopLoop(loop: CheckLoop): void {
    loop.stopped = true;
    if (loop.timer !== undefined) this.#clock.clearTimeout(loop.timer);
    loop.timer = undefined;
    loop.controller?.abort();
  }

  async #check(loop: CheckLoop): Promise<void> {
    if (loop.stopped) return;
    const { monitor, address } = loop;
    const controller = new AbortController();
    loop.controller = controller;
    const timedOut = new Promise<ProbeResult>((resolve) => {
      controller.signal.addEventListener('abort', () =>
        resolve({ ok: false, detail: `no answer within ${monitor.timeoutMs} ms` }),
      );
    });
    // One timer per loop: the check's deadline while it runs, the delay to the next one after.
    loop.timer = this.#clock.setTimeout(() => controller.abort(), monitor.timeoutMs);
    const result = await Promise.race([
      runProbe(monitor, address, {
        dialer: this.#options.dialer,
        via: this.#options.via,
        pool: this.#options.pool,
        tls: this.#options.tls,
        sessionId: `health-${this.#options.pool}-${monitor.name}-${++this.#seq}`,
        signal: controller.signal,
      }),
      timedOut,
    ]);
    if (loop.timer !== undefined) this.#clock.clearTimeout(loop.timer);
    loop.timer = undefined;
    controller.abort();
    loop.controller = undefined;
    if (loop.stopped) return;
    this.#options.onResult(address, monitor, result);
    if (loop.stopped) return;
    loop.timer = this.#clock.setTimeout(() => {
      loop.timer = undefined;
      void this.#check(loop);
    }, monitor.delayMs);
  }
}
