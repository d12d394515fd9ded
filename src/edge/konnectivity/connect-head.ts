import net from 'node:net';

/** A parsed `CONNECT host:port HTTP/1.x` request head. */
export interface ConnectHead {
  /** The destination as the request target names it (the Host header is not the destination). */
  readonly host: string;
  readonly port: number;
  /** `host:port`, with IPv6 in brackets, as a connector dials it. */
  readonly target: string;
  readonly version: '1.0' | '1.1';
  /** Header fields in order, names lower-cased. */
  readonly headers: readonly (readonly [string, string])[];
}

/** What the bytes received so far say about the request head. */
export type HeadParse =
  | { readonly state: 'incomplete' }
  | { readonly state: 'error'; readonly status: 400 | 405; readonly reason: string }
  | {
      readonly state: 'complete';
      readonly head: ConnectHead;
      /** Bytes the head took; everything after them belongs to the tunnel. */
      readonly headLength: number;
    };

/** Limits of {@link parseConnectHead}. */
export interface HeadLimits {
  /** Most bytes of request line plus headers; default 8192. */
  readonly maxHeadBytes?: number;
  /** Most header fields; default 64. */
  readonly maxHeaders?: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^ ]+) HTTP\/(\d)\.(\d)$/;
const HOST_NAME =
  /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;
// Visible ASCII, space and tab: anything else (NUL, other controls, bytes >= 0x7f) is refused.
const FIELD_TEXT = /^[\t\x20-\x7e]*$/;

/**
 * Parses the head of an HTTP CONNECT request as kube-apiserver's egress selector sends it
 * (`CONNECT 10.0.0.5:10250 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`). Pure: call it again with the
 * longer buffer until it is not `incomplete`. A broken request line is refused as soon as
 * that line is complete, without waiting for the rest of the head.
 */
export function parseConnectHead(buffer: Uint8Array, limits: HeadLimits = {}): HeadParse {
  const maxHeadBytes = limits.maxHeadBytes ?? 8192;
  const end = findHeadEnd(buffer, maxHeadBytes);
  if (end === undefined) {
    const lineEnd = buffer.indexOf(0x0a);
    if (lineEnd >= 0 && lineEnd < maxHeadBytes) {
      const line = checkRequestLine(latin1(buffer, 0, lineEnd));
      if (line.state === 'error') return line;
    }
    if (buffer.length >= maxHeadBytes)
      return refuse(400, `request head larger than ${maxHeadBytes} bytes`);
    return { state: 'incomplete' };
  }
  const lines = latin1(buffer, 0, end.headEnd)
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const line = checkRequestLine(lines[0] ?? '');
  if (line.state === 'error') return line;
  const headers = parseHeaders(lines.slice(1), limits.maxHeaders ?? 64);
  if (!Array.isArray(headers)) return headers;
  const body = bodyProblem(headers);
  if (body) return refuse(400, body);
  return {
    state: 'complete',
    head: { ...line.target, version: line.version, headers },
    headLength: end.length,
  };
}

/** Where the blank line ending the head is: `\n\n` or `\n\r\n` (a bare LF is tolerated, RFC 9112 §2.2). */
function findHeadEnd(
  buffer: Uint8Array,
  max: number,
): { headEnd: number; length: number } | undefined {
  const limit = Math.min(buffer.length, max + 1);
  for (let i = buffer.indexOf(0x0a); i >= 0 && i < limit; i = buffer.indexOf(0x0a, i + 1)) {
    if (buffer[i + 1] === 0x0a) return { headEnd: i, length: i + 2 };
    if (buffer[i + 1] === 0x0d && buffer[i + 2] === 0x0a) return { headEnd: i, length: i + 3 };
  }
  return undefined;
}

type LineResult =
  | { state: 'error'; status: 400 | 405; reason: string }
  | { state: 'ok'; target: Omit<ConnectHead, 'version' | 'headers'>; version: '1.0' | '1.1' };

function checkRequestLine(raw: string): LineResult {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const match = REQUEST_LINE.exec(text);
  if (!match) return refuse(400, 'malformed request line');
  const [, method = '', target = '', major, minor] = match;
  if (method !== 'CONNECT') return refuse(405, `method ${method} not allowed; only CONNECT`);
  if (major !== '1' || (minor !== '0' && minor !== '1'))
    return refuse(400, `unsupported HTTP version ${major}.${minor}`);
  const destination = authority(target);
  if (!destination) return refuse(400, 'request target is not host:port');
  return { state: 'ok', target: destination, version: minor === '0' ? '1.0' : '1.1' };
}

/** Authority form only (`host:port`, IPv6 in brackets); no user info, path or zero port. */
function authority(target: string): Omit<ConnectHead, 'version' | 'headers'> | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(target);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  const v6 = match[1];
  if (v6 !== undefined) {
    if (!net.isIPv6(v6)) return undefined;
    return { host: v6, port, target: `[${v6}]:${port}` };
  }
  const host = match[2] ?? '';
  if (host.length > 253 || !(net.isIPv4(host) || HOST_NAME.test(host))) return undefined;
  return { host, port, target: `${host}:${port}` };
}

function parseHeaders(
  lines: readonly string[],
  max: number,
): [string, string][] | { state: 'error'; status: 400; reason: string } {
  if (lines.length > max) return refuse(400, `more than ${max} header fields`);
  const headers: [string, string][] = [];
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t'))
      return refuse(400, 'obsolete line folding in header');
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    const value = line.slice(colon + 1).trim();
    if (!TOKEN.test(name) || !FIELD_TEXT.test(value)) return refuse(400, 'malformed header field');
    headers.push([name.toLowerCase(), value]);
  }
  return headers;
}

/** CONNECT has no content (RFC 9110 §9.3.6): framing headers would make the tunnel's first bytes ambiguous. */
function bodyProblem(headers: readonly (readonly [string, string])[]): string | undefined {
  for (const [name, value] of headers) {
    if (name === 'transfer-encoding') return 'CONNECT with Transfer-Encoding';
    if (name === 'content-length' && value !== '0') return 'CONNECT with content';
  }
  return undefined;
}

function refuse<S extends 400 | 405>(
  status: S,
  reason: string,
): { state: 'error'; status: S; reason: string } {
  return { state: 'error', status, reason };
}

function latin1(buffer: Uint8Array, start: number, end: number): string {
  return Buffer.from(buffer.buffer, buffer.byteOffset + start, end - start).toString('latin1');
}
