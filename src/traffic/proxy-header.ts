import net from 'node:net';

// The PROXY protocol (HAProxy's proxy-protocol.txt): the first bytes on a connection to a node
// say who the client was and which address it connected to, so a node behind a tcp or tls
// passthrough virtual server sees the client's address instead of the edge's.

/** PROXY protocol versions a virtual server can send to its nodes; `none` sends nothing. */
export const proxyProtocolVersions = ['none', 'v1', 'v2'] as const;

/** A PROXY protocol version, or `none`. */
export type ProxyProtocolVersion = (typeof proxyProtocolVersions)[number];

/** One end of the client's connection, as Node reports it (either part may be unknown). */
export interface ProxyEndpoint {
  readonly address: string | undefined;
  readonly port: number | undefined;
}

/** The v2 header's fixed first 12 bytes. */
const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** Version 2 in the high nibble, command PROXY (relayed for a client) in the low one. */
const V2_PROXY_COMMAND = 0x21;
/** Address family in the high nibble, transport STREAM in the low one; UNSPEC is 0x00. */
const V2_TCP4 = 0x11;
const V2_TCP6 = 0x21;

interface AddressPair {
  readonly family: 4 | 6;
  readonly source: string;
  readonly destination: string;
  readonly sourcePort: number;
  readonly destinationPort: number;
}

/**
 * The header a node is sent before any client byte: `source` is the client, `destination` the
 * address the client connected to. Both IPv4 (IPv4-mapped IPv6 counts) gives TCP4, both IP with
 * one IPv6 gives TCP6 (the IPv4 side mapped), anything else UNKNOWN (v2: family UNSPEC).
 */
export function encodeProxyHeader(
  version: 'v1' | 'v2',
  source: ProxyEndpoint,
  destination: ProxyEndpoint,
): Buffer {
  const pair = addressPair(source, destination);
  return version === 'v1' ? encodeV1(pair) : encodeV2(pair);
}

/** The header for a client connection, or undefined when `version` is `none`. */
export function proxyHeaderOf(
  version: ProxyProtocolVersion | undefined,
  client: net.Socket,
): Buffer | undefined {
  if (version === undefined || version === 'none') return undefined;
  return encodeProxyHeader(
    version,
    { address: client.remoteAddress, port: client.remotePort },
    { address: client.localAddress, port: client.localPort },
  );
}

function encodeV1(pair: AddressPair | undefined): Buffer {
  if (!pair) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const { family, source, destination, sourcePort, destinationPort } = pair;
  const line = `PROXY TCP${family} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`;
  return Buffer.from(line, 'latin1');
}

function encodeV2(pair: AddressPair | undefined): Buffer {
  const addressBytes = pair === undefined ? 0 : pair.family === 4 ? 12 : 36;
  const header = Buffer.alloc(16 + addressBytes);
  V2_SIGNATURE.copy(header, 0);
  header[12] = V2_PROXY_COMMAND;
  header.writeUInt16BE(addressBytes, 14);
  if (!pair) return header; // family UNSPEC (0x00): the node uses the connection's own ends
  header[13] = pair.family === 4 ? V2_TCP4 : V2_TCP6;
  const size = pair.family === 4 ? 4 : 16;
  const bytesOf = pair.family === 4 ? ipv4Bytes : ipv6Bytes;
  bytesOf(pair.source).copy(header, 16);
  bytesOf(pair.destination).copy(header, 16 + size);
  header.writeUInt16BE(pair.sourcePort, 16 + 2 * size);
  header.writeUInt16BE(pair.destinationPort, 18 + 2 * size);
  return header;
}

function addressPair(source: ProxyEndpoint, destination: ProxyEndpoint): AddressPair | undefined {
  if (!validPort(source.port) || !validPort(destination.port)) return undefined;
  const s = plainAddress(source.address);
  const d = plainAddress(destination.address);
  if (s === undefined || d === undefined) return undefined;
  const ports = { sourcePort: source.port, destinationPort: destination.port };
  if (net.isIPv4(s) && net.isIPv4(d)) return { family: 4, source: s, destination: d, ...ports };
  return { family: 6, source: asIPv6(s), destination: asIPv6(d), ...ports };
}

function validPort(port: number | undefined): port is number {
  return port !== undefined && Number.isInteger(port) && port >= 0 && port <= 65_535;
}

/** An IP address without an IPv6 zone and with an IPv4-mapped IPv6 address unmapped. */
function plainAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const unzoned = address.split('%')[0] ?? '';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(unzoned);
  const plain = mapped?.[1] ?? unzoned;
  return net.isIP(plain) === 0 ? undefined : plain;
}

function asIPv6(address: string): string {
  return net.isIPv4(address) ? `::ffff:${address}` : address;
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/** The 16 bytes of a valid IPv6 address in any textual form (`::`, embedded IPv4). */
function ipv6Bytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    ipv4Bytes(tail).copy(out, 12);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left = '', right] = text.split('::');
  const head = left === '' ? [] : left.split(':');
  const rest = right === undefined || right === '' ? [] : right.split(':');
  const zeros = right === undefined ? [] : Array<string>(8 - head.length - rest.length).fill('0');
  [...head, ...zeros, ...rest].forEach((group, i) => {
    if (i < 6 || !tail.includes('.')) out.writeUInt16BE(parseInt(group, 16), i * 2);
  });
  return out;
}
