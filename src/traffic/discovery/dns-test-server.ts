// Test support: a small authoritative DNS server on 127.0.0.1 (RFC 1035 wire format over UDP)
// whose records tests change while it runs. It answers A, AAAA, SRV and CNAME from a table,
// with TTLs, NXDOMAIN for unknown names and an empty NOERROR answer for known names without
// records of the asked type; it can also be told to fail (SERVFAIL, REFUSED) or stay silent.
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';

/** Records of one name. */
export interface DnsRecords {
  A?: { address: string; ttl: number }[];
  AAAA?: { address: string; ttl: number }[];
  SRV?: { target: string; port: number; ttl: number; priority?: number; weight?: number }[];
  CNAME?: { target: string; ttl: number };
}

/** How the server treats every query: answer from the table, fail, or not reply at all. */
export type DnsServerMode = 'answer' | 'servfail' | 'refused' | 'silent';

const TYPES = { A: 1, CNAME: 5, AAAA: 28, SRV: 33 } as const;
const RCODE = { ok: 0, servfail: 2, nxdomain: 3, refused: 5 } as const;

/** A DNS server for tests; `address` is what a Resolver's setServers takes. */
export class DnsTestServer {
  mode: DnsServerMode = 'answer';
  /** Every question asked, as `name TYPE`, in order. */
  readonly queries: string[] = [];
  readonly #zone = new Map<string, DnsRecords>();
  /** `name TYPE` → the rcode every such query gets, whatever the mode. */
  readonly #failing = new Map<string, number>();
  readonly #socket: dgram.Socket;

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    socket.on('message', (message, peer) => this.#answer(message, peer));
  }

  /** Starts a server on a free UDP port of 127.0.0.1. */
  static async start(): Promise<DnsTestServer> {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new DnsTestServer(socket);
  }

  /** `127.0.0.1:port`. */
  get address(): string {
    return `127.0.0.1:${this.#socket.address().port}`;
  }

  /** Replaces the records of `name`. */
  set(name: string, records: DnsRecords): void {
    this.#zone.set(name.toLowerCase().replace(/\.$/, ''), records);
  }

  /** Makes queries for `name` with `type` fail (`undefined` = answer them again). */
  fail(name: string, type: keyof typeof TYPES, how: 'servfail' | 'refused' | undefined): void {
    const key = `${name.toLowerCase().replace(/\.$/, '')} ${type}`;
    if (how === undefined) this.#failing.delete(key);
    else this.#failing.set(key, RCODE[how]);
  }

  /** Removes `name`: queries for it get NXDOMAIN. */
  remove(name: string): void {
    this.#zone.delete(name.toLowerCase().replace(/\.$/, ''));
  }

  /** Number of queries asked for `name` with `type` so far. */
  count(name: string, type: keyof typeof TYPES): number {
    return this.queries.filter((q) => q === `${name.toLowerCase()} ${type}`).length;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  #answer(query: Buffer, peer: dgram.RemoteInfo): void {
    if (query.length < 12) return;
    const question = readQuestion(query);
    if (question === undefined) return;
    const typeName =
      Object.entries(TYPES).find(([, v]) => v === question.type)?.[0] ?? String(question.type);
    this.queries.push(`${question.name} ${typeName}`);
    if (this.mode === 'silent') return;
    let rcode: number =
      this.mode === 'servfail'
        ? RCODE.servfail
        : this.mode === 'refused'
          ? RCODE.refused
          : RCODE.ok;
    const answers: Buffer[] = [];
    rcode = this.#failing.get(`${question.name} ${typeName}`) ?? rcode;
    if (rcode === RCODE.ok) rcode = this.#lookup(question.name, question.type, answers);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    // QR=1, opcode copied, AA=1, RD copied, RA=1.
    header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x7900) | 0x0400 | 0x0080 | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const reply = Buffer.concat([header, query.subarray(12, question.end), ...answers]);
    this.#socket.send(reply, peer.port, peer.address);
  }

  /** Appends answer records for `name`/`type` (following CNAMEs) and returns the rcode. */
  #lookup(name: string, type: number, answers: Buffer[]): number {
    let current = name;
    for (let depth = 0; depth < 8; depth++) {
      const records = this.#zone.get(current);
      if (records === undefined) return depth === 0 ? RCODE.nxdomain : RCODE.ok;
      if (records.CNAME !== undefined && type !== TYPES.CNAME) {
        answers.push(
          record(current, TYPES.CNAME, records.CNAME.ttl, encodeName(records.CNAME.target)),
        );
        current = records.CNAME.target.toLowerCase().replace(/\.$/, '');
        continue;
      }
      if (type === TYPES.A)
        for (const r of records.A ?? [])
          answers.push(record(current, type, r.ttl, ipv4(r.address)));
      if (type === TYPES.AAAA)
        for (const r of records.AAAA ?? [])
          answers.push(record(current, type, r.ttl, ipv6(r.address)));
      if (type === TYPES.SRV) {
        for (const r of records.SRV ?? []) {
          const fixed = Buffer.alloc(6);
          fixed.writeUInt16BE(r.priority ?? 10, 0);
          fixed.writeUInt16BE(r.weight ?? 10, 2);
          fixed.writeUInt16BE(r.port, 4);
          answers.push(record(current, type, r.ttl, Buffer.concat([fixed, encodeName(r.target)])));
        }
      }
      return RCODE.ok;
    }
    return RCODE.servfail;
  }
}

function readQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let offset = 12;
  for (let guard = 0; guard < 128; guard++) {
    const length = query[offset];
    if (length === undefined || length > 63) return undefined;
    offset += 1;
    if (length === 0) break;
    labels.push(query.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > query.length) return undefined;
  return {
    name: labels.join('.').toLowerCase(),
    type: query.readUInt16BE(offset),
    end: offset + 4,
  };
}

function encodeName(name: string): Buffer {
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l.length > 0);
  return Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])),
    Buffer.from([0]),
  ]);
}

function record(name: string, type: number, ttl: number, data: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([encodeName(name), fixed, data]);
}

function ipv4(address: string): Buffer {
  if (net.isIPv4(address) === false) throw new Error(`not IPv4: ${address}`);
  return Buffer.from(address.split('.').map(Number));
}

function ipv6(address: string): Buffer {
  if (net.isIPv6(address) === false) throw new Error(`not IPv6: ${address}`);
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
