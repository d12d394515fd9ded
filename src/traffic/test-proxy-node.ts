import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';

// A node for tests that expects a PROXY protocol header. Its parser is written apart from the
// encoder (proxy-header.ts) from the text of HAProxy's proxy-protocol.txt, so that the two
// cannot share a misreading.

/** What the node read before the client's bytes; `null` when there was no PROXY header. */
export type SeenHeader = {
  readonly version: 1 | 2;
  readonly family: string;
  readonly source?: string;
  readonly sourcePort?: number;
  readonly destination?: string;
  readonly destinationPort?: number;
} | null;

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** Parses a header at the start of `data`: 'more' when incomplete, else the header and the rest. */
export function parseSeenHeader(data: Buffer): 'more' | { header: SeenHeader; rest: Buffer } {
  if (data.length < 6) {
    const prefixOf = (sig: Buffer): boolean => sig.subarray(0, data.length).equals(data);
    return prefixOf(Buffer.from('PROXY ')) || prefixOf(SIG) ? 'more' : noHeader(data);
  }
  if (data.subarray(0, 6).toString('latin1') === 'PROXY ') {
    const end = data.indexOf('\r\n');
    if (end < 0) {
      if (data.length > 107) throw new Error('v1 line longer than 107 bytes');
      return 'more';
    }
    const words = data.subarray(0, end).toString('latin1').split(' ');
    const rest = data.subarray(end + 2);
    if (words[1] === 'UNKNOWN') return { header: { version: 1, family: 'UNKNOWN' }, rest };
    if (words.length !== 6) throw new Error(`bad v1 line: ${words.join(' ')}`);
    const [, family = '', source = '', destination = '', sp = '', dp = ''] = words;
    const header = { version: 1 as const, family, source, destination };
    return { header: { ...header, sourcePort: Number(sp), destinationPort: Number(dp) }, rest };
  }
  if (data.length < 16) return SIG.subarray(0, data.length).equals(data) ? 'more' : noHeader(data);
  if (!data.subarray(0, 12).equals(SIG)) return noHeader(data);
  const byte12 = data[12]!;
  const byte13 = data[13]!;
  if (byte12 >> 4 !== 2 || (byte12 & 0xf) !== 1) throw new Error(`bad v2 ver/cmd ${byte12}`);
  const length = data.readUInt16BE(14);
  if (data.length < 16 + length) return 'more';
  const body = data.subarray(16, 16 + length);
  const rest = data.subarray(16 + length);
  if (byte13 === 0x00) return { header: { version: 2, family: 'UNSPEC' }, rest };
  const size = byte13 === 0x11 ? 4 : byte13 === 0x21 ? 16 : -1;
  if (size < 0) throw new Error(`unexpected v2 family/transport ${byte13}`);
  const text = (at: number): string =>
    size === 4
      ? [...body.subarray(at, at + 4)].join('.')
      : Array.from({ length: 8 }, (_, i) => body.readUInt16BE(at + i * 2).toString(16)).join(':');
  const header = {
    version: 2 as const,
    family: size === 4 ? 'TCP4' : 'TCP6',
    source: text(0),
    destination: text(size),
    sourcePort: body.readUInt16BE(2 * size),
    destinationPort: body.readUInt16BE(2 * size + 2),
  };
  return { header, rest };
}

function noHeader(data: Buffer): { header: SeenHeader; rest: Buffer } {
  return { header: null, rest: data };
}

/** A node on 127.0.0.1 that answers `JSON(header)\n` then echoes what follows (in TLS if given). */
export interface ProxyNode {
  readonly address: string;
  close(): Promise<void>;
}

/** Starts a {@link ProxyNode}; with `tls`, the bytes after the header are a TLS connection. */
export async function startProxyNode(
  options: { tls?: { key: string; cert: string } } = {},
): Promise<ProxyNode> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let data = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      const parsed = parseSeenHeader(data);
      if (parsed === 'more') return;
      socket.off('data', onData);
      socket.pause();
      serve(socket, parsed.header, parsed.rest, options.tls);
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function serve(
  socket: net.Socket,
  header: SeenHeader,
  rest: Buffer,
  pair: { key: string; cert: string } | undefined,
): void {
  socket.unshift(rest);
  const line = `${JSON.stringify(header)}\n`;
  if (!pair) {
    socket.write(line);
    socket.pipe(socket);
    return;
  }
  const secure = new tls.TLSSocket(socket, { isServer: true, ...pair });
  secure.on('error', () => undefined);
  secure.once('secure', () => secure.write(line));
  secure.pipe(secure);
}
