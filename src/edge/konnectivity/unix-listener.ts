import cluster from 'node:cluster';
import { chmod, lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { konnectivityErrors } from './errors.js';

/** Mode of the frontend socket: owner and group (kube-apiserver's) may connect, nobody else. */
export const SOCKET_MODE = 0o770;

/**
 * Listens on a Unix socket for the frontend, mode 0770. A left-over socket file nobody serves
 * is replaced; a live one, or a path that is not a socket, is an error (never deleted). In a
 * cluster worker the socket is shared with the sibling workers instead.
 */
export async function listenUnixSocket(
  path: string,
  onSocket: (socket: net.Socket) => void,
): Promise<net.Server> {
  // Workers of a multi-process edge share one socket through the cluster primary: a sibling
  // serving it is expected, and two workers clearing "stale" files at once could delete the
  // live one. The primary clears a left-over socket before it forks them (clearStaleSocket).
  if (!cluster.isWorker) await clearStaleSocket(path);
  const server = net.createServer({ allowHalfOpen: true }, onSocket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(konnectivityErrors.listenFailed(path, err)));
    server.listen({ path }, () => resolve());
  });
  try {
    // Node creates the socket with the process umask; narrow it before anyone is told it exists.
    await chmod(path, SOCKET_MODE);
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw konnectivityErrors.listenFailed(path, err);
  }
  return server;
}

/**
 * Removes a left-over socket file at `path` that nobody serves (a crashed edge's); a live one,
 * or a path that is not a socket, is an error and is never deleted. Nothing there: nothing to do.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let stat;
  try {
    stat = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw konnectivityErrors.socketInUse(path, (err as Error).message);
  }
  if (!stat.isSocket())
    throw konnectivityErrors.socketInUse(path, 'a file that is not a socket is there');
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw konnectivityErrors.socketInUse(path, 'another process is serving it');
  await unlink(path);
}
