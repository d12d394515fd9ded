import { BlockList, isIP } from 'node:net';

const v4Mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * True when `ip` lies in one of `cidrs`. IPv4-mapped IPv6 addresses (as a dual-stack socket
 * reports IPv4 peers) are compared as IPv4; malformed input never matches.
 */
export function ipInCidrs(ip: string, cidrs: readonly string[]): boolean {
  const address = v4Mapped.exec(ip)?.[1] ?? ip;
  const family = isIP(address);
  if (family === 0) return false;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network = '', prefix = ''] = cidr.split('/');
    const networkFamily = isIP(network);
    if (networkFamily === 0 || !/^\d{1,3}$/.test(prefix)) continue;
    list.addSubnet(network, Number(prefix), networkFamily === 4 ? 'ipv4' : 'ipv6');
  }
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
