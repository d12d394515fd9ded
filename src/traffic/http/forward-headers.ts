import { connectionTokens, isHopByHop, mayBeSpecial, removeHeader } from './header-list.js';

/** What X-Forwarded-For/-Proto/-Host say about the client. */
export interface ForwardedInfo {
  readonly clientIp: string;
  readonly proto: 'http' | 'https';
  /** The Host (or :authority) the client asked for. */
  readonly host: string | undefined;
}

/**
 * The fields to send upstream: the client's, without hop-by-hop ones, pseudo-headers and
 * Expect (the proxy answered 100-continue itself), with X-Forwarded-* appended when `forwarded`
 * is given (an existing X-Forwarded-For is extended; -Proto and -Host are replaced).
 * For HTTP/2 clients (`authority` given), :authority becomes the Host field when the client sent
 * none, and split Cookie fields are joined into one (RFC 9113 §8.2.3).
 */
export function upstreamRequestHeaders(
  raw: readonly string[],
  forwarded: ForwardedInfo | undefined,
  authority?: string,
): string[] {
  const out: string[] = [];
  let xff: string | undefined;
  let hasHost = false;
  let extra: Set<string> | undefined;
  let cookies: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const value = raw[i + 1] as string;
    if (!mayBeSpecial(name)) {
      out.push(name, value);
      continue;
    }
    const lower = name.toLowerCase();
    if (isHopByHop(lower)) {
      if (lower === 'connection') extra = connectionTokens(value);
      continue;
    }
    if (lower === 'expect') continue;
    if (authority !== undefined && lower === 'cookie') {
      cookies = cookies === undefined ? value : `${cookies}; ${value}`;
      continue;
    }
    if (lower === 'host') hasHost = true;
    else if (forwarded && lower.startsWith('x-forwarded-')) {
      if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`;
      if (
        lower === 'x-forwarded-for' ||
        lower === 'x-forwarded-proto' ||
        lower === 'x-forwarded-host'
      )
        continue;
    }
    out.push(name, value);
  }
  if (extra) for (const name of extra) removeHeader(out, name);
  if (!hasHost && authority !== undefined) out.unshift('Host', authority);
  if (cookies !== undefined) out.push('Cookie', cookies);
  if (forwarded) {
    out.push(
      'X-Forwarded-For',
      xff === undefined ? forwarded.clientIp : `${xff}, ${forwarded.clientIp}`,
    );
    out.push('X-Forwarded-Proto', forwarded.proto);
    if (forwarded.host !== undefined) out.push('X-Forwarded-Host', forwarded.host);
  }
  return out;
}

/**
 * Serializes an HTTP/1.1 request head. `framing` is an extra field line such as
 * `Transfer-Encoding: chunked\r\n`; `fallbackHost` is used when the fields have no Host.
 */
export function requestHead(
  method: string,
  target: string,
  headers: readonly string[],
  framing: string,
  fallbackHost: string,
): string {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let hasHost = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!hasHost && name.length === 4 && name.toLowerCase() === 'host') hasHost = true;
    head += `${name}: ${headers[i + 1] as string}\r\n`;
  }
  if (!hasHost) head += `Host: ${fallbackHost}\r\n`;
  return `${head}${framing}\r\n`;
}

/** The client's address without the IPv4-mapped IPv6 prefix. */
export function clientIpOf(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
