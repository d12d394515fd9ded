/** What reading the start of a TLS connection found. */
export type ClientHelloResult =
  | { readonly status: 'incomplete' }
  | {
      readonly status: 'ok';
      readonly serverName: string | undefined;
      readonly alpn: readonly string[];
    }
  | { readonly status: 'invalid'; readonly reason: string };

const INCOMPLETE: ClientHelloResult = { status: 'incomplete' };
const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const MAX_RECORD = 16384 + 2048;
const HOSTNAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?$/;

const invalid = (reason: string): ClientHelloResult => ({ status: 'invalid', reason });

/**
 * Reads the SNI server name and ALPN protocols from the bytes a TLS client sent first
 * (RFC 8446 §4.1.2, RFC 6066 §3, RFC 7301), across as many handshake records as the
 * ClientHello spans. Pure: the caller buffers, bounds the size and calls again with more bytes.
 */
export function parseClientHello(data: Buffer): ClientHelloResult {
  const hello = collectHandshake(data);
  if (hello.status !== 'ok') return hello.result;
  return parseHelloBody(hello.body);
}

type Collected = { status: 'ok'; body: Buffer } | { status: 'other'; result: ClientHelloResult };

function collectHandshake(data: Buffer): Collected {
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  while (need < 0 || have < need) {
    if (data.length < off + 5) return { status: 'other', result: INCOMPLETE };
    if (data[off] !== HANDSHAKE)
      return { status: 'other', result: invalid('not a TLS handshake record') };
    if (data[off + 1] !== 3 || (data[off + 2] as number) > 4)
      return { status: 'other', result: invalid('unknown TLS record version') };
    const length = data.readUInt16BE(off + 3);
    if (length === 0 || length > MAX_RECORD)
      return { status: 'other', result: invalid('bad record length') };
    if (data.length < off + 5 + length) return { status: 'other', result: INCOMPLETE };
    parts.push(data.subarray(off + 5, off + 5 + length));
    have += length;
    off += 5 + length;
    if (need < 0 && have >= 4) {
      const first = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
      if (first[0] !== CLIENT_HELLO)
        return { status: 'other', result: invalid('first handshake message is not a ClientHello') };
      need = 4 + first.readUIntBE(1, 3);
    }
  }
  const all = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  return { status: 'ok', body: all.subarray(4, need) };
}

/** A bounds-checked reader over the ClientHello body. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public off = 0,
    readonly end = buf.length,
  ) {}
  u8(): number {
    if (this.off + 1 > this.end) throw new RangeError('truncated');
    return this.buf[this.off++] as number;
  }
  u16(): number {
    if (this.off + 2 > this.end) throw new RangeError('truncated');
    const v = this.buf.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  bytes(n: number): Buffer {
    if (this.off + n > this.end) throw new RangeError('truncated');
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
}

function parseHelloBody(body: Buffer): ClientHelloResult {
  try {
    const r = new Reader(body);
    r.bytes(2 + 32); // legacy_version, random
    const sessionId = r.u8();
    if (sessionId > 32) return invalid('session id longer than 32 bytes');
    r.bytes(sessionId);
    const suites = r.u16();
    if (suites < 2 || suites % 2 !== 0) return invalid('bad cipher suite list');
    r.bytes(suites);
    const compression = r.u8();
    if (compression < 1) return invalid('empty compression list');
    r.bytes(compression);
    if (r.off === r.end) return { status: 'ok', serverName: undefined, alpn: [] };
    return parseExtensions(new Reader(body, r.off + 2, r.off + 2 + r.u16()));
  } catch {
    return invalid('ClientHello truncated');
  }
}

function parseExtensions(r: Reader): ClientHelloResult {
  if (r.end > r.buf.length) return invalid('extensions overrun the ClientHello');
  let serverName: string | undefined;
  let alpn: string[] = [];
  while (r.off < r.end) {
    const type = r.u16();
    const ext = new Reader(r.buf, r.off + 2, r.off + 2 + r.u16());
    r.bytes(ext.end - ext.off);
    if (type === EXT_SERVER_NAME) {
      const name = readServerName(ext);
      if (name === null) return invalid('bad server_name extension');
      serverName = name;
    } else if (type === EXT_ALPN) alpn = readAlpn(ext);
  }
  return { status: 'ok', serverName, alpn };
}

function readServerName(ext: Reader): string | undefined | null {
  const list = new Reader(ext.buf, ext.off + 2, ext.off + 2 + ext.u16());
  if (list.end > ext.end) return null;
  while (list.off < list.end) {
    const kind = list.u8();
    const name = list.bytes(list.u16());
    if (kind !== 0) continue;
    const host = name.toString('latin1').toLowerCase();
    return HOSTNAME.test(host) && host.length <= 253 ? host.replace(/\.$/, '') : null;
  }
  return undefined;
}

function readAlpn(ext: Reader): string[] {
  const list = new Reader(ext.buf, ext.off + 2, ext.off + 2 + ext.u16());
  const out: string[] = [];
  while (list.off < list.end && list.end <= ext.end)
    out.push(list.bytes(list.u8()).toString('latin1'));
  return out;
}
