import net from 'node:net';
import { lookup } from 'node:dns/promises';
import type { DialCode } from '../protocol/index.js';
import { connectTcp, splitHostPort, type ViewReader } from '../traffic/index.js';
import type { TargetPolicy } from './target-policy.js';

/** The outcome of dialing a destination from the connector's network. */
export type TargetDialOutcome =
  | { readonly code: 'ok'; readonly socket: net.Socket; readonly resolvedAddress: string }
  | { readonly code: Exclude<DialCode, 'ok'>; readonly message: string };

/**
 * Resolves and dials a destination if the policy allows it. The check happens on the name
 * and on the resolved address, and the socket connects to exactly the address that was
 * checked, so a DNS answer cannot change between check and connect.
 */
export async function dialTarget(
  text: string,
  options: {
    policy: TargetPolicy;
    timeoutMs: number;
    /** The connection's reads go here as views of a reused buffer (see connectTcp). */
    reader?: ViewReader | undefined;
  },
): Promise<TargetDialOutcome> {
  const target = splitHostPort(text);
  if (!target) return { code: 'not_allowed', message: `"${text}" is not host:port` };
  let address = target.host;
  if (!net.isIP(address)) {
    try {
      address = (await lookup(target.host)).address;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'lookup failed';
      return { code: 'dns', message: `${target.host}: ${code}` };
    }
  }
  if (!options.policy.allowsName(target) && !options.policy.allowsAddress(address, target.port)) {
    return {
      code: 'not_allowed',
      message: `${text} is not among the destinations this connector group may reach`,
    };
  }
  const outcome = await connectTcp(address, target.port, options.timeoutMs, options.reader);
  if (outcome.code !== 'ok') return outcome;
  const resolvedAddress = net.isIPv6(address)
    ? `[${address}]:${target.port}`
    : `${address}:${target.port}`;
  return { code: 'ok', socket: outcome.socket, resolvedAddress };
}
