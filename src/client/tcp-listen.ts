import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { expiredLoginAt, LOGIN_EXPIRED_REASON, loginExpiredMessage } from './tcp-expiry.js';
import { openTcpTunnel } from './tcp-tunnel.js';
import { pipeBothWays } from './tcp-pipe.js';

/** How `postern tcp --listen` forwards local connections. */
export interface TcpListenOptions {
  readonly edgeUrl: string;
  /** The application's `host:port` as the edge's applications name it. */
  readonly target: string;
  readonly token: string;
  readonly caPem?: string | undefined;
  /** Local `host:port` to accept on; a port of 0 picks a free one. */
  readonly listen: { readonly host: string; readonly port: number };
  readonly logger: Logger;
  /** Bound on opening each tunnel; default 20 s. */
  readonly timeoutMs?: number;
}

/** True for a host only this machine can connect to: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' ||
    h === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\./.test(h)
  );
}

/**
 * The warning for a forwarder that listens where other machines may connect: whoever does
 * reaches the target with the user's login. Undefined on a loopback address.
 */
export function sharingWarning(host: string, target: string): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  return (
    `listening on ${host}, which other machines may reach: whoever connects reaches ${target} ` +
    'as you (with your login). Listen on 127.0.0.1 unless you mean to share it.'
  );
}

/** A running local forwarder. */
export interface TcpListener {
  readonly address: AddressInfo;
  /** Stops accepting and cuts the open connections. */
  close(): Promise<void>;
}

/**
 * Accepts local TCP connections and carries each through its own tunnel to the target. A
 * connection the edge refuses (expired login, denied, no connector) is closed at once and the
 * reason is logged, with the `postern login` hint on a 407. A connection the edge ends because
 * the login expired is logged as a warning saying to log in again.
 */
export async function startTcpListener(options: TcpListenOptions): Promise<TcpListener> {
  const open = new Set<net.Socket>();
  const log = options.logger;
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (local) => {
    open.add(local);
    local.on('error', () => undefined);
    local.once('close', () => open.delete(local));
    const peer = `${local.remoteAddress ?? '?'}:${local.remotePort ?? 0}`;
    void openTcpTunnel(options.edgeUrl, options.target, {
      token: options.token,
      caPem: options.caPem,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    }).then(
      async (tunnel) => {
        log.info({ peer, target: options.target }, 'connection forwarded');
        // Only a close the edge started can be the edge's expiry cut: the local side was open.
        let expiredAt: number | undefined;
        let localEnded = false;
        local.once('end', () => (localEnded = true));
        tunnel.once('close', () => {
          if (!localEnded && !local.destroyed)
            expiredAt = expiredLoginAt(options.token, Date.now());
        });
        const result = await pipeBothWays(local, tunnel);
        if (expiredAt === undefined) {
          log.info({ peer, target: options.target, ...result }, 'connection closed');
          return;
        }
        const ended = { peer, target: options.target, ...result, reason: LOGIN_EXPIRED_REASON };
        log.warn(ended, loginExpiredMessage(options.edgeUrl, expiredAt));
      },
      (err: unknown) => {
        const e = err as Error & { code?: string };
        log.error({ peer, target: options.target, code: e.code }, e.message);
        local.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.listen.host, port: options.listen.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const sharing = sharingWarning(options.listen.host, options.target);
  if (sharing !== undefined)
    log.warn({ listen: options.listen.host, target: options.target }, sharing);
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
