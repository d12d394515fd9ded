import net from 'node:net';
import type { TargetRule } from '../protocol/index.js';

/** A destination split into host and port. */
export interface Target {
  readonly host: string;
  readonly port: number;
}

/**
 * Decides which destinations a connector may dial: the edge sends the rules for the
 * connector's group (its pools' nodes and applications). Empty rules allow nothing, so a
 * connector is never an open proxy.
 */
export class TargetPolicy {
  readonly #hostRules: { host: string; wildcard: boolean; from: number; to: number }[] = [];
  readonly #cidrRules: { list: net.BlockList; from: number; to: number }[] = [];
  readonly #allowAll: boolean;

  /** `allowAll` (default false) is only for a connector advertising `default-route=true`. */
  constructor(rules: readonly TargetRule[], options: { allowAll?: boolean } = {}) {
    this.#allowAll = options.allowAll ?? false;
    for (const rule of rules) {
      const [from, to] = rule.ports;
      if (rule.host !== undefined) {
        const host = rule.host.toLowerCase();
        const wildcard = host.startsWith('*.');
        this.#hostRules.push({ host: wildcard ? host.slice(1) : host, wildcard, from, to });
      }
      if (rule.cidr !== undefined) {
        const list = cidrList(rule.cidr);
        if (list) this.#cidrRules.push({ list, from, to });
      }
    }
  }

  /** Number of rules in force. */
  get size(): number {
    return this.#hostRules.length + this.#cidrRules.length;
  }

  /** True when the destination as named (before resolution) is allowed. */
  allowsName(target: Target): boolean {
    if (this.#allowAll) return true;
    const host = target.host.toLowerCase();
    return this.#hostRules.some(
      (r) =>
        target.port >= r.from &&
        target.port <= r.to &&
        (r.wildcard ? host.endsWith(r.host) && host.length > r.host.length : host === r.host),
    );
  }

  /** True when a resolved address falls in an allowed CIDR for the port. */
  allowsAddress(address: string, port: number): boolean {
    if (this.#allowAll) return true;
    const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    return this.#cidrRules.some(
      (r) => port >= r.from && port <= r.to && r.list.check(address, family),
    );
  }
}

function cidrList(cidr: string): net.BlockList | undefined {
  const [address, prefixText] = cidr.split('/');
  const prefix = Number(prefixText);
  if (address === undefined || !net.isIP(address) || !Number.isInteger(prefix)) return undefined;
  const list = new net.BlockList();
  list.addSubnet(address, prefix, net.isIPv6(address) ? 'ipv6' : 'ipv4');
  return list;
}
