import type { Readable, Writable } from 'node:stream';
import { expiredLoginAt, LOGIN_EXPIRED_REASON, loginExpiredMessage } from './tcp-expiry.js';
import { openTcpTunnel } from './tcp-tunnel.js';
import type { PipeResult } from './tcp-pipe.js';

/** How `postern tcp --stdio` carries one connection (an SSH ProxyCommand). */
export interface TcpStdioOptions {
  readonly edgeUrl: string;
  readonly target: string;
  readonly token: string;
  readonly caPem?: string | undefined;
  readonly stdin: Readable;
  readonly stdout: Writable;
  /** Where a session the edge ended because the login expired is told; default process.stderr. */
  readonly stderr?: Writable;
  readonly timeoutMs?: number;
}

/**
 * Opens one tunnel and carries stdin to it and its bytes to stdout. The end of stdin
 * half-closes the tunnel (the application still answers); the session is over when the tunnel
 * closes. Rejects before any byte flows when the edge refuses (POSTERN_ERR_LOGIN_REQUIRED on
 * 407, POSTERN_ERR_ACCESS_REFUSED otherwise). When the edge ends the session because the login
 * expired, one line on stderr says to log in again and the reason is `token_expired`.
 */
export async function runTcpStdio(options: TcpStdioOptions): Promise<PipeResult> {
  const tunnel = await openTcpTunnel(options.edgeUrl, options.target, {
    token: options.token,
    caPem: options.caPem,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const { stdin, stdout } = options;
  return new Promise((resolve) => {
    let sent = 0;
    let received = 0;
    let reason = 'closed';
    let stdinEnded = false;
    stdin.once('end', () => (stdinEnded = true));
    stdin.on('data', (chunk: Buffer) => (sent += chunk.length));
    tunnel.on('data', (chunk: Buffer) => (received += chunk.length));
    tunnel.on('error', (err: Error & { code?: string }) => {
      if (reason === 'closed') reason = err.code ?? err.message;
    });
    // stdout is not ended: the process's own exit flushes and closes it.
    tunnel.pipe(stdout, { end: false });
    stdin.pipe(tunnel);
    tunnel.once('close', () => {
      // Only a close the edge started can be the edge's expiry cut: stdin was still open.
      const expiredAt = stdinEnded ? undefined : expiredLoginAt(options.token, Date.now());
      if (expiredAt !== undefined) {
        reason = LOGIN_EXPIRED_REASON;
        (options.stderr ?? process.stderr).write(
          `${loginExpiredMessage(options.edgeUrl, expiredAt)}\n`,
        );
      }
      stdin.unpipe(tunnel);
      stdin.pause();
      resolve({ sent, received, reason });
    });
  });
}
