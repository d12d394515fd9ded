import type { Duplex } from 'node:stream';

/** Bytes carried by a finished pipe, each way. */
export interface PipeResult {
  readonly sent: number;
  readonly received: number;
  /** `closed`, or the code/message of the error that cut the connection. */
  readonly reason: string;
}

/**
 * Carries bytes both ways between the local side and the tunnel with backpressure; an end on
 * one side half-closes the other, an error on either cuts both. Resolves once both have closed.
 */
export function pipeBothWays(local: Duplex, tunnel: Duplex): Promise<PipeResult> {
  return new Promise((resolve) => {
    let sent = 0;
    let received = 0;
    let reason = 'closed';
    let open = 2;
    const cut = (err: Error): void => {
      if (reason === 'closed') reason = (err as { code?: string }).code ?? err.message;
      local.destroy();
      tunnel.destroy();
    };
    const closed = (): void => {
      open -= 1;
      if (open === 0) resolve({ sent, received, reason });
    };
    local.on('data', (chunk: Buffer) => (sent += chunk.length));
    tunnel.on('data', (chunk: Buffer) => (received += chunk.length));
    local.on('error', cut);
    tunnel.on('error', cut);
    // When one side has closed, the other's bytes have nowhere to go: drain them so its end
    // (and close) arrives, and cut it if it lingers half-open for 30 s.
    for (const [gone, peer] of [
      [local, tunnel],
      [tunnel, local],
    ] as const) {
      gone.once('close', () => {
        closed();
        if (!peer.writableEnded) peer.end();
        peer.resume();
        const timer = setTimeout(() => peer.destroy(), 30_000);
        timer.unref();
        peer.once('close', () => clearTimeout(timer));
      });
    }
    local.pipe(tunnel);
    tunnel.pipe(local);
  });
}
