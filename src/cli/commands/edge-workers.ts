import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { CoreErrors } from '../../core/index.js';
import { isPostgresUrl } from '../../store/index.js';
import { untilSignal } from '../logger.js';

/** What this process is in a multi-core edge. */
export type WorkerPlan =
  | { readonly role: 'single' }
  | { readonly role: 'primary'; readonly count: number }
  | { readonly role: 'worker'; readonly index: number; readonly baseServerId: string };

const READY = 'postern-edge-ready';
const STOP = 'postern-edge-stop';
/** Bound on a worker's graceful shutdown before it is killed. */
const STOP_TIMEOUT_MS = 60_000;

/**
 * Decides the role from `--workers` (default: every core with a PostgreSQL store, else 1).
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
  const count = workers === undefined ? (postgres ? availableParallelism() : 1) : Number(workers);
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
  const stopTimeoutMs = options.stopTimeoutMs ?? STOP_TIMEOUT_MS;
  const workers = new Map<number, Worker>();
  let stopping = false;
  let failed: Error | undefined;
  let wakeUp: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (wakeUp = resolve));
  const fork = (index: number): void => {
    const worker = cluster.fork({
      POSTERN_WORKER_INDEX: String(index),
      POSTERN_BASE_SERVER_ID: baseServerId,
    });
    let ready = false;
    workers.set(index, worker);
    worker.on('message', (m: { type?: unknown } | null) => {
      if (m?.type === READY) ready = true;
    });
    worker.once('exit', (code, signal) => {
      workers.delete(index);
      if (stopping) return;
      if (!ready) {
        failed = new Error(`edge worker ${index} exited during start (code ${code}, ${signal})`);
        wakeUp();
        return;
      }
      logger.error({ worker: index, code, signal }, 'edge worker died; starting it again');
      setTimeout(() => stopping || fork(index), 1000).unref();
    });
  };
  for (let index = 1; index <= count; index++) fork(index);
  logger.info({ workers: count, serverId: baseServerId }, 'edge workers started');
  const signal = await Promise.race([untilSignal(), stopRequested.then(() => 'failure')]);
  stopping = true;
  logger.info({ signal }, 'stopping edge workers');
  await stopAll([...workers.values()], stopTimeoutMs);
  if (failed) throw failed;
}

async function stopAll(workers: Worker[], stopTimeoutMs: number): Promise<void> {
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          const timer = setTimeout(() => worker.process.kill('SIGKILL'), stopTimeoutMs);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          if (worker.isConnected()) worker.send({ type: STOP });
          else worker.process.kill('SIGTERM');
        }),
    ),
  );
}
