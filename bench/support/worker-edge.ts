// Postern as the workers suite runs it: `postern edge --workers N` on a PostgreSQL store with
// fixed loopback ports (the same in every phase, so one configuration serves all of them), and
// connectors that dial the one tunnel port until they hold a tunnel to every worker.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpawnedProcess } from '../../test/e2e/support/spawned-process.js';
import type { Children } from './children.js';
import { workerServerIds } from './worker-scaling.js';

/** The built CLI, seen from dist/bench/support/. */
const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const startTimeoutMs = 20_000;
const stopTimeoutMs = 10_000;
/** The connector group every connector of the suite joins. */
export const benchGroup = 'bench';
const serverId = 'bench';

/** Where the edge of every phase listens and keeps its files. */
export interface WorkerEdgeLayout {
  dataDir: string;
  store: string;
  tunnelPort: number;
  adminPort: number;
  adminToken: string;
}

/** Calls the edge's admin API (any worker answers); throws with the answer on a non-2xx status. */
export type WorkerAdminApi = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** The admin API of the edge of `layout`. */
export function workerAdminApi(layout: WorkerEdgeLayout): WorkerAdminApi {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`http://127.0.0.1:${layout.adminPort}/api/v1${path}`, {
      method,
      signal: AbortSignal.timeout(10_000),
      headers: {
        authorization: `Bearer ${layout.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`admin API ${method} ${path}: ${response.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
}

/**
 * Starts `postern edge --workers count` and resolves when every worker printed its ready line.
 * Log level warn, so per-session lines stay off the measured path.
 */
export async function startWorkerEdge(
  children: Children,
  layout: WorkerEdgeLayout,
  count: number,
): Promise<SpawnedProcess> {
  const tunnel = `127.0.0.1:${layout.tunnelPort}`;
  const edge = children.spawn(
    `edge-w${count}`,
    process.execPath,
    [
      cli,
      'edge',
      '--data-dir',
      layout.dataDir,
      '--store',
      layout.store,
      '--tunnel-listen',
      tunnel,
      '--advertise-address',
      tunnel,
      '--admin-listen',
      `127.0.0.1:${layout.adminPort}`,
      '--server-id',
      serverId,
      '--workers',
      String(count),
      // A lease left by an edge that did not stop cleanly expires quickly.
      '--lease-ttl',
      '3',
    ],
    { POSTERN_LOG_LEVEL: 'warn', POSTERN_ADMIN_TOKEN: layout.adminToken },
  );
  let ready = 0;
  await edge.waitFor((l) => l.text.startsWith('postern edge ready:') && ++ready === count, {
    timeoutMs: startTimeoutMs,
    what: `${count} worker ready line(s)`,
  });
  return edge;
}

/** Starts a connector (enrolling with `provisionKey` on its first start) dialing the tunnel port. */
export function startBenchConnector(
  children: Children,
  o: { name: string; stateDir: string; tunnelPort: number; provisionKey?: string },
): SpawnedProcess {
  const args = [
    cli,
    'connector',
    '--state-dir',
    o.stateDir,
    '--edge',
    `127.0.0.1:${o.tunnelPort}`,
    // Behind one address the connector redials until it holds every worker; do it quickly.
    '--sync-interval',
    '0.2',
    '--drain-timeout',
    '1',
  ];
  if (o.provisionKey !== undefined) args.push('--provision-key', o.provisionKey);
  // Level info for the 'tunnel up' lines; sessions log at debug, so the data path stays quiet.
  return children.spawn(o.name, process.execPath, args, { POSTERN_LOG_LEVEL: 'info' });
}

/** Resolves when `connector` logged a tunnel up to each of the `count` workers. */
export async function waitAllWorkersHeld(
  connector: SpawnedProcess,
  count: number,
  timeoutMs = startTimeoutMs,
): Promise<void> {
  const ids = workerServerIds(serverId, count);
  await Promise.all(
    ids.map((id) =>
      connector.waitForLog('tunnel up', { timeoutMs, where: (entry) => entry['edge'] === id }),
    ),
  );
}

/** SIGTERM, then SIGKILL after a bound; throws when the process still lives. */
export async function stopProcess(child: SpawnedProcess): Promise<void> {
  if (await child.stop('SIGTERM', stopTimeoutMs)) return;
  if (!(await child.stop('SIGKILL', 2_000))) throw new Error(`${child.name} did not exit`);
}

/** State directory of connector `index` below `dir`. */
export function connectorStateDir(dir: string, index: number): string {
  return join(dir, `connector-${index}`);
}
