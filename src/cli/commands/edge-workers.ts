import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { CoreErrors } from '../../core/index.js';
import { isPostgresUrl } from '../../store/index.js';
import { untilSignal } from '../logger.js';
import { containerCpus } from '../container-cpus.js';

/** What this process is in a multi-core edge. */
export type WorkerPlan =
  | { readonly role: 'single' }
  | { readonly role: 'primary'; readonly count: number }
  | { readonly role: 'worker'; readonly index: number; readonly baseServerId: string };

const READY = 'postern-edge-ready';
const STOP = 'postern-edge-stop';
const FAILED = 'postern-edge-failed';
/** Bound on a worker's graceful shutdown before it is killed. */
const STOP_TIMEOUT_MS = 60_000;
/** Bound on a worker that is still starting (it does not listen for STOP yet) after SIGTERM. */
const START_STOP_TIMEOUT_MS = 5_000;

/** Why an edge worker failed to start, as the primary reports it (printed once, not per worker). */
export class EdgeWorkerStartError extends Error {
  /** The worker's own one-line report, printed as it is. */
  readonly report: string;

  constructor(report: string) {
    super(report);
    this.name = 'EdgeWorkerStartError';
    this.report = report;
  }
}

/**
 * Decides the role from `--workers` (default: with a PostgreSQL store one per CPU this process
 * may use, within its container's CPU limit; else 1).
 * Several workers need PostgreSQL: the embedded store is one file and its change feed is
 * in-process.
 */
export function workerPlan(workers: string | undefined, store: string | undefined): WorkerPlan {
  if (cluster.isWorker) {
    return {
      role: 'worker',
      index: Number(process.env.POSTERN_WORKER_INDEX ?? '1'),
      baseServerId: process.env.POSTERN_BASE_SERVER_ID ?? 'edge',
    };
  }
  const postgres = store !== undefined && isPostgresUrl(store);
  const count = workers === undefined ? (postgres ? containerCpus() : 1) : Number(workers);
  if (!Number.isInteger(count) || count < 1) {
    throw CoreErrors.invalidArgument('--workers', `"${workers}" is not a whole number ≥ 1`);
  }
  if (count > 1 && !postgres) {
    throw CoreErrors.invalidArgument(
      '--workers',
      'several workers need a PostgreSQL store (--store postgres://…); the embedded store serves one process',
    );
  }
  return count === 1 ? { role: 'single' } : { role: 'primary', count };
}

/** The server id of a worker: `<id>-w<n>`, each a member of the HA set. */
export function workerServerId(plan: WorkerPlan, given: string | undefined): { serverId?: string } {
  if (plan.role === 'worker') return { serverId: `${plan.baseServerId}-w${plan.index}` };
  return given ? { serverId: given } : {};
}

/** In a worker: tells the primary it serves. */
export function reportReady(): void {
  if (cluster.isWorker) process.send?.({ type: READY });
}

/**
 * In a worker whose command failed: sends `report` (the line the CLI would print) to the primary,
 * which prints it once for all workers and stops the edge, then drops the channel. Resolves true
 * when the primary has it (the caller then exits without printing), false outside a worker.
 */
export function reportStartFailure(report: string): Promise<boolean> {
  if (!cluster.isWorker || !process.connected || !process.send) return Promise.resolve(false);
  return new Promise((resolve) => {
    process.send?.({ type: FAILED, report }, undefined, {}, (err: Error | null) => {
      if (process.connected) process.disconnect();
      resolve(err === null);
    });
  });
}

/** In a worker, after the edge closed: drops the channel to the primary so the process can exit. */
export function finishWorker(): void {
  if (cluster.isWorker && process.connected) process.disconnect();
}

/** Resolves on SIGINT/SIGTERM, or when the primary asks this worker to stop. */
export function untilStop(): Promise<string> {
  if (!cluster.isWorker) return untilSignal();
  return new Promise((resolve) => {
    const onMessage = (m: unknown): void => {
      if ((m as { type?: unknown } | null)?.type !== STOP) return;
      process.off('message', onMessage);
      resolve('primary');
    };
    process.on('message', onMessage);
    void untilSignal().then((signal) => {
      process.off('message', onMessage);
      resolve(signal);
    });
  });
}

/**
 * The primary of a multi-core edge: forks `count` workers that share the listening ports
 * (node:cluster), restarts one that dies after it was ready, and on SIGINT/SIGTERM asks all to
 * stop gracefully. A worker that dies before it is ready stops everything (a bad flag or
 * store fails the same way in every worker).
 */
export async function runPrimary(
  count: number,
  options: {
    readonly baseServerId: string;
    readonly logger: Logger;
    /** Bound on a worker's graceful stop before it is killed; default 60 s. */
    readonly stopTimeoutMs?: number;
  },
): Promise<void> {
  const { logger, baseServerId } = options;
  const set = new WorkerSet(baseServerId, logger);
  for (let index = 1; index <= count; index++) set.fork(index);
  logger.info({ workers: count, serverId: baseServerId }, 'edge workers started');
  const signal = await Promise.race([untilSignal(), set.failure.then(() => 'failure')]);
  set.stopping = true;
  logger.info({ signal }, 'stopping edge workers');
  await stopAll([...set.workers.values()], {
    ready: set.ready,
    stopTimeoutMs: options.stopTimeoutMs ?? STOP_TIMEOUT_MS,
  });
  if (set.failed) throw set.failed;
}

/** The primary's workers: forks them, follows their reports and exits, restarts one that served. */
class WorkerSet {
  /** Workers by index (1…count), while their process lives. */
  readonly workers = new Map<number, Worker>();
  /** Workers that reported they serve. */
  readonly ready = new Set<Worker>();
  /** Set once the primary stops the workers: exits are then expected. */
  stopping = false;
  /** The first start failure, reported by the primary. */
  failed: Error | undefined;
  /** Resolves at the first start failure. */
  readonly failure: Promise<void>;
  #wakeUp: () => void = () => undefined;
  readonly #baseServerId: string;
  readonly #logger: Logger;

  constructor(baseServerId: string, logger: Logger) {
    this.#baseServerId = baseServerId;
    this.#logger = logger;
    this.failure = new Promise<void>((resolve) => (this.#wakeUp = resolve));
  }

  /** Starts worker `index` (again). */
  fork(index: number): void {
    const worker = cluster.fork({
      POSTERN_WORKER_INDEX: String(index),
      POSTERN_BASE_SERVER_ID: this.#baseServerId,
    });
    this.workers.set(index, worker);
    worker.on('message', (m: { type?: unknown; report?: unknown } | null) =>
      this.#onMessage(worker, index, m),
    );
    worker.once('exit', (code, signal) => this.#onExit(worker, index, { code, signal }));
  }

  #onMessage(worker: Worker, index: number, m: { type?: unknown; report?: unknown } | null): void {
    if (m?.type === READY) this.ready.add(worker);
    if (m?.type !== FAILED || typeof m.report !== 'string') return;
    // After it served, a worker's failure is logged and the worker restarted (on 'exit').
    if (this.ready.has(worker)) {
      this.#logger.error({ worker: index, err: m.report.trim() }, 'edge worker failed');
      return;
    }
    // The first failure is the one reported: the others are usually the same.
    this.#fail(new EdgeWorkerStartError(m.report));
  }

  #onExit(worker: Worker, index: number, how: { code: number; signal: string }): void {
    const { code, signal } = how;
    this.workers.delete(index);
    const served = this.ready.delete(worker);
    if (this.stopping) return;
    if (!served) {
      this.#fail(new Error(`edge worker ${index} exited during start (code ${code}, ${signal})`));
      return;
    }
    this.#logger.error({ worker: index, code, signal }, 'edge worker died; starting it again');
    setTimeout(() => this.stopping || this.fork(index), 1000).unref();
  }

  #fail(err: Error): void {
    this.failed ??= err;
    this.#wakeUp();
  }
}

/**
 * Asks every worker to stop: a ready one gracefully (STOP), one still starting with SIGTERM
 * (it listens for STOP only once it serves), each killed when it does not exit in time.
 */
async function stopAll(
  workers: Worker[],
  o: { readonly ready: ReadonlySet<Worker>; readonly stopTimeoutMs: number },
): Promise<void> {
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          const graceful = o.ready.has(worker) && worker.isConnected();
          const bound = graceful
            ? o.stopTimeoutMs
            : Math.min(o.stopTimeoutMs, START_STOP_TIMEOUT_MS);
          const timer = setTimeout(() => worker.process.kill('SIGKILL'), bound);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          if (graceful) worker.send({ type: STOP });
          else worker.process.kill('SIGTERM');
        }),
    ),
  );
}
