/** An IP address as a number: 32 bits for IPv4, 128 bits for IPv6. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** A network: an address with its host bits cleared and the prefix length. */
export interface IpNetwork {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
}

const MAPPED_V4_PREFIX = 0xffffn << 32n;

/**
 * Parses an IPv4 or IPv6 address (IPv6 optionally in brackets, with an embedded IPv4 tail);
 * IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) become IPv4 so both spellings match the same
 * networks. Returns undefined for anything else, such as a host name.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!bare.includes(':')) {
    const v4 = parseIpv4(bare);
    return v4 === undefined ? undefined : { family: 4, value: v4 };
  }
  const v6 = parseIpv6(bare);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 - MAPPED_V4_PREFIX };
  return { family: 6, value: v6 };
}

/** Parses `address/prefix` into its network; undefined when it is not a valid CIDR. */
export function parseCidr(text: string): IpNetwork | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (prefixText === '' || !Number.isInteger(prefix)) return undefined;
  const addressText = text.slice(0, slash);
  const family = addressText.includes(':') ? 6 : 4;
  const value = family === 4 ? parseIpv4(addressText) : parseIpv6(addressText);
  if (value === undefined || prefix < 0 || prefix > bits(family)) return undefined;
  return { family, network: maskOf(value, family, prefix), prefix };
}

/** The address with every bit after the first `prefix` bits cleared. */
export function maskOf(value: bigint, family: 4 | 6, prefix: number): bigint {
  const hostBits = BigInt(bits(family) - prefix);
  return (value >> hostBits) << hostBits;
}

/** True when the network holds the address. */
export function networkContains(network: IpNetwork, address: IpAddress): boolean {
  return (
    network.family === address.family &&
    maskOf(address.value, address.family, network.prefix) === network.network
  );
}

function bits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (part.length === 0 || part.length > 3 || !isDigits(part)) return undefined;
    const octet = Number(part);
    if (octet > 255 || (part.length > 1 && part.startsWith('0'))) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [
    ...head,
    ...new Array<number>(halves.length === 2 ? missing : 0).fill(0),
    ...tail,
  ];
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/** The 16-bit groups of one side of `::`, an IPv4 tail counting as two. */
function groupsOf(text: string): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (part.length >= 1 && part.length <= 4 && isHex(part)) {
      groups.push(Number.parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

function isDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function isHex(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20;
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
