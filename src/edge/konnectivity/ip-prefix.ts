import net from 'node:net';

/** An IP prefix (`10.0.0.0/8`, `fd00::/64`) that can tell whether it contains an address. */
export interface IpPrefix {
  readonly family: 'ipv4' | 'ipv6';
  readonly length: number;
  readonly list: net.BlockList;
}

/** Parses `address/length`; undefined when either part is invalid. */
export function parsePrefix(cidr: string): IpPrefix | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const address = cidr.slice(0, slash);
  const lengthText = cidr.slice(slash + 1);
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  if (!family || !/^[0-9]{1,3}$/.test(lengthText)) return undefined;
  const length = Number(lengthText);
  if (length > (family === 'ipv4' ? 32 : 128)) return undefined;
  const list = new net.BlockList();
  list.addSubnet(address, length, family);
  return { family, length, list };
}

/** True when the (canonical or not) IP address lies in the prefix. */
export function prefixContains(prefix: IpPrefix, address: string): boolean {
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  return family === prefix.family && prefix.list.check(address, family);
}

/**
 * One spelling per address, so `::1` and `0:0::1` compare equal; undefined for non-IPs.
 * IPv4 literals are already canonical once net.isIPv4 accepts them.
 */
export function canonicalIp(text: string): string | undefined {
  if (net.isIPv4(text)) return text;
  if (!net.isIPv6(text)) return undefined;
  // Zone ids (fe80::1%eth0) are not valid in URLs; they never name a remote destination anyway.
  if (text.includes('%')) return text.toLowerCase();
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}
