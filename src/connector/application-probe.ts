import net from 'node:net';
import { lookup } from 'node:dns/promises';
import { connectTcp } from '../traffic/index.js';

/** Most resolved addresses of one name a health check connects to. */
export const MAX_PROBED_ADDRESSES = 8;

/** The outcome of checking one destination on one port: which resolved addresses answered. */
export interface ProbeOutcome {
  readonly up: readonly string[];
  readonly down: readonly string[];
  /** Why addresses failed (the first reason), or why the name did not resolve. */
  readonly detail?: string | undefined;
}

/** Checks one destination (a name or an address) on one TCP port. */
export type DestinationProbe = (
  host: string,
  port: number,
  timeoutMs: number,
) => Promise<ProbeOutcome>;

/**
 * The connector's health check, as ZPA does it: resolve the name in the connector's network and
 * complete a TCP handshake with each resolved address on the port; a name that does not resolve
 * is down.
 */
export const tcpProbe: DestinationProbe = async (host, port, timeoutMs) => {
  let addresses: string[];
  if (net.isIP(host) !== 0) {
    addresses = [host];
  } else {
    try {
      const found = await lookup(host, { all: true });
      addresses = [...new Set(found.map((a) => a.address))].slice(0, MAX_PROBED_ADDRESSES);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'lookup failed';
      return { up: [], down: [], detail: `${host}: ${code}` };
    }
  }
  const up: string[] = [];
  const down: string[] = [];
  let detail: string | undefined;
  await Promise.all(
    addresses.map(async (address) => {
      const outcome = await connectTcp(address, port, timeoutMs);
      if (outcome.code === 'ok') {
        outcome.socket.destroy();
        up.push(address);
      } else {
        down.push(address);
        detail ??= `${address}:${port}: ${outcome.message}`;
      }
    }),
  );
  return { up: up.sort(), down: down.sort(), detail };
};
