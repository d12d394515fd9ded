import type { Duplex } from 'node:stream';

/**
 * Joins two byte streams both ways with backpressure and half-close: an end on one side
 * ends the other's writable side; an error on either side cuts both. `onClose` runs once
 * when both have closed, with `closed` or the code of the error that cut them.
 */
export function joinStreams(a: Duplex, b: Duplex, onClose: (reason: string) => void): void {
  let reason = 'closed';
  let open = 2;
  const cut = (err?: Error): void => {
    if (err && reason === 'closed') reason = (err as { code?: string }).code ?? 'error';
    a.destroy();
    b.destroy();
  };
  const closedOne = (other: Duplex) => (): void => {
    open -= 1;
    if (open === 0) onClose(reason);
    else if (reason !== 'closed') cut();
    else if (!other.writableEnded) other.end();
  };
  a.once('close', closedOne(b));
  b.once('close', closedOne(a));
  a.on('error', cut);
  b.on('error', cut);
  a.pipe(b);
  b.pipe(a);
}
